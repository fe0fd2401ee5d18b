"""Social platforms: posts, comments and DMs, dropped as weekly JSONL files.

A profile belongs to one person; some people have a second profile on another
platform. Display names are what people choose to show: nicknames, characters.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import polars as pl

from demo import clock, events
from demo.context import Context
from demo.planting import BadLine, dumps, pick_rows, splice, truncated, write_lines
from demo.pools import ascii_slug
from demo.tables import frame, json_lines
from demo.text import TextMaker
from demo.views import SourceStyle, render

STYLE = SourceStyle(hanzi=0.9, typo=0.02, nickname=0.35, missing_email=0.0,
                    missing_phone=0.0, birth_date=0.0, phone_styles=("intl", "digits"),
                    email_case=0.0, stale_address=0.0, landline=0.2, family_email=0.2)
COVERAGE, SECOND_PROFILE = 0.35, 0.15
PLATFORMS_ZH = ("weibo", "wechat", "x", "instagram")
PLATFORMS = ("x", "instagram", "facebook")
KINDS = np.array(["post", "comment", "dm"], dtype=object)
COLUMNS = ("post_id", "platform", "kind", "parent_id", "handle", "display_name", "bio", "lang",
           "text", "created_at", "reactions")


def week_file(seconds: np.ndarray) -> pl.Series:
    """social_<ISO year>W<ISO week>.jsonl per event time."""
    t = pl.from_epoch(pl.Series(seconds), time_unit="s")
    return pl.select(pl.format("social_{}W{}.jsonl", t.dt.iso_year(),
                               t.dt.week().cast(pl.String).str.zfill(2))).to_series()


def handles(rng: np.random.Generator, first: np.ndarray, last: np.ndarray,
            platform: np.ndarray, taken: set[tuple[str, str]]) -> np.ndarray:
    """Handles unique per platform, also against ``taken`` from earlier drops."""
    style = rng.integers(0, 4, len(first))
    nums = rng.integers(1, 999, len(first))
    slug = {v: ascii_slug(v) for v in dict.fromkeys([*first.tolist(), *last.tolist()])}
    out = []
    for f, la, p, s, k in zip(first, last, platform, style, nums, strict=True):
        f, la = slug[f] or "user", slug[la] or "x"
        base = (f"{f}{la}{k}", f"{f}_{la}", f"{la}.{f}{k % 100}", f"the_{f}{k}")[s]
        h, count = base, 1
        while (p, h) in taken:
            count += 1
            h = f"{base}{count}"
        taken.add((p, h))
        out.append(h)
    return np.array(out, dtype=object)


def new_profiles(ctx: Context, rng: np.random.Generator, person: np.ndarray,
                 taken: set[tuple[str, str]]) -> pl.DataFrame:
    """Profiles for ``person``, some with a second one on another platform."""
    people = ctx.people
    second = person[rng.random(len(person)) < SECOND_PROFILE]
    owner = np.concatenate([person, second])
    zh = people.is_zh()[owner]
    first_pick = rng.integers(0, 4, len(owner))
    shift = np.where(np.arange(len(owner)) >= len(person), 1 + rng.integers(0, 2, len(owner)), 0)
    platform = np.where(zh, np.array(PLATFORMS_ZH, dtype=object)[(first_pick + shift) % 4],
                        np.array(PLATFORMS, dtype=object)[(first_pick + shift) % 3])
    handle = handles(rng, people.first_latin[owner], people.last_latin[owner], platform, taken)
    return profile_frame(ctx, rng, owner, platform, handle)


def profile_frame(ctx: Context, rng: np.random.Generator, owner: np.ndarray,
                  platform: np.ndarray, handle: np.ndarray) -> pl.DataFrame:
    """What a profile shows: display name (nicknames, characters), bio, contact details."""
    people = ctx.people
    view = render(people, owner, STYLE, rng)
    display = view.full_name(rng, ("fl", "fl", "f"))
    short = rng.random(len(owner)) < 0.15  # "Bob S." style
    display[short] = [f"{f} {la[:1]}." if not hz else f for f, la, hz in
                      zip(view.first_name[short], view.last_name[short], view.hanzi[short],
                          strict=True)]
    start = clock.uniform(rng, clock.START, people.active_until()[owner] - 30 * clock.DAY)
    return frame({
        "person": owner, "platform": platform, "handle": handle, "display_name": display,
        "bio": np.array(TextMaker(rng).bios(people.is_zh()[owner], people.city[owner],
                                            view.email), dtype=object),
        "email": view.email, "phone": view.phone, "start": start,
    })


def posts(ctx: Context, rng: np.random.Generator, prof: pl.DataFrame, start: np.ndarray,
          end: np.ndarray, per_day: float, first_post: bool, at_least: int = 0) -> pl.DataFrame:
    """Posts by profiles within [start, end); churners complain before they leave."""
    people = ctx.people
    owner = prof["person"].to_numpy()
    p, t = events.spread(rng, start, end, per_day, at_least)
    negative = rng.random(len(p)) < 0.15
    churn = people.churned_at[owner]
    pc, tc = events.before_churn(rng, np.where((churn >= start) & (churn <= end), churn, -1),
                                 1 / 45, start)
    parts_p, parts_t, parts_n = [p, pc], [t, tc], [negative, rng.random(len(pc)) < 0.7]
    if first_post:  # every profile shows up at least once, so its truth row is real
        parts_p.append(np.arange(len(owner)))
        parts_t.append(clock.uniform(rng, start, end))
        parts_n.append(np.zeros(len(owner), dtype=bool))
    p, t, negative = (np.concatenate(x) for x in (parts_p, parts_t, parts_n))
    order = np.lexsort((p, t))
    p, t, negative = p[order], t[order], negative[order]
    n = len(p)
    zh = people.is_zh()[owner[p]]
    lang_zh = zh & (rng.random(n) < 0.85)
    kind = KINDS[rng.choice(3, n, p=[0.6, 0.3, 0.1])]
    post_id = ctx.ids("social/posts", n, "SP", 10)
    # A comment answers some earlier post in the same drop history.
    earlier = (rng.random(n) * np.arange(n)).astype(np.int64)
    parent = np.where((kind == "comment") & (np.arange(n) > 0), post_id[earlier], None)
    kind[(kind == "comment") & (np.arange(n) == 0)] = "post"
    email, phone = prof["email"].to_numpy()[p], prof["phone"].to_numpy()[p]
    reactions = np.where(kind == "dm", 0, rng.lognormal(1.2, 1.3, n).astype(np.int64))
    maker = TextMaker(rng)
    text = np.array(maker.posts(lang_zh, negative, email, phone), dtype=object)
    ctx.add_pii_spans("social", "posts", "text", post_id, maker.spans)
    return frame({
        "post_id": post_id, "platform": prof["platform"].to_numpy()[p], "kind": kind,
        "parent_id": parent, "handle": prof["handle"].to_numpy()[p],
        "display_name": prof["display_name"].to_numpy()[p], "bio": prof["bio"].to_numpy()[p],
        "lang": np.where(lang_zh, "zh", "en").astype(object),
        "text": text,
        "created_at": clock.fmt(t, clock.API_TS), "reactions": reactions,
        "_city": people.city[owner[p]], "_t": t,
    })


def write_drop(ctx: Context, path_name: str, df: pl.DataFrame) -> int:
    lines = json_lines(df.select(COLUMNS))
    write_lines(ctx.paths.social_landing / path_name, lines)
    return len(lines)


def generate(ctx: Context) -> None:
    rng = ctx.rng("social")
    people = ctx.people
    person = np.flatnonzero(rng.random(len(people)) < COVERAGE)
    prof = new_profiles(ctx, rng, person, set())
    ctx.add_truth("social", "posts", (prof["platform"] + ":" + prof["handle"]).to_list(),
                  prof["person"].to_numpy())
    start = prof["start"].to_numpy()
    end = people.active_until()[prof["person"].to_numpy()]
    per_day = 3 * prof.height / max(1.0, float((end - start).sum()) / clock.DAY)
    df = posts(ctx, rng, prof, start, end, per_day, first_post=True)
    ctx.social_profiles = prof.select("person", "platform", "handle")
    ctx.social_dms = df.filter(pl.col("kind") == "dm").select("platform", "handle", "_t")
    df = df.with_columns(_file=week_file(df["_t"].to_numpy()))
    ctx.paths.social_landing.mkdir(parents=True, exist_ok=True)
    write_weekly(ctx, rng, df)


def write_weekly(ctx: Context, rng: np.random.Generator, df: pl.DataFrame) -> None:
    groups = df.partition_by("_file", maintain_order=True, as_dict=True)
    names = sorted(k[0] for k in groups)
    files = {name: groups[(name,)] for name in names}
    # A late file gains a 'location' field (drift); a mid file is delivered twice.
    drift_name = names[max(0, len(names) - 10)]
    dup_name = names[len(names) // 2] if len(names) > 2 else None
    if dup_name == drift_name:
        dup_name = None
    plain = [n for n in names if n not in (drift_name, dup_name)] or names
    lines = {n: json_lines(files[n].select(COLUMNS)) for n in names}
    lines[drift_name] = json_lines(files[drift_name].select(
        *COLUMNS, pl.when(pl.col("_city").is_not_null() & (pl.col("_t") % 3 > 0))
        .then(pl.col("_city")).alias("location")))
    ctx.drift.append({"source": "social", "entity": "posts", "file": rel(ctx, drift_name),
                      "kind": "schema_drift", "renamed_from": None, "renamed_to": None,
                      "added_field": "location"})

    bad = plan_bad_lines(ctx, rng, plain, lines)
    for name in names:
        out, placed = splice(lines[name], bad.get(name, []))
        write_lines(ctx.paths.social_landing / name, out)
        ctx.count("social/posts", len(out))
        for line_no, b in placed:
            ctx.plant("social", "posts", rel(ctx, name), line_no, b.record_id, b.kind, b.field)
    if dup_name is not None:
        copy = dup_name.replace(".jsonl", "_redelivered.jsonl")
        shutil.copyfile(ctx.paths.social_landing / dup_name, ctx.paths.social_landing / copy)
        ctx.duplicate_files.append({"file": rel(ctx, copy), "duplicate_of": rel(ctx, dup_name)})


def rel(ctx: Context, name: str) -> str:
    return ctx.paths.rel(ctx.paths.social_landing / name)


def plan_bad_lines(ctx: Context, rng: np.random.Generator, plain: list[str],
                   lines: dict[str, list[bytes]]) -> dict[str, list[BadLine]]:
    total = sum(len(lines[n]) for n in plain)
    wanted = [("malformed_json", None, 0.0005), ("wrong_type", "reactions", 0.0005),
              ("overlong_field", "text", 0.0002)]
    ks = [max(1, round(total * rate)) for _, _, rate in wanted]
    picks = pick_rows(rng, [len(lines[n]) for n in plain], sum(ks))
    picks = [picks[i] for i in rng.permutation(len(picks))]
    ids = ctx.ids("social/posts", len(picks), "SP", 10)
    out: dict[str, list[BadLine]] = {}
    kinds = [(kind, fld) for (kind, fld, _), k in zip(wanted, ks, strict=True) for _ in range(k)]
    for (f, row), (kind, fld), rid in zip(picks, kinds, ids, strict=False):
        record = json.loads(lines[plain[f]][row])
        record["post_id"] = rid
        if kind == "malformed_json":
            data = truncated(record)
        elif kind == "wrong_type":
            record["reactions"] = str(rng.choice(["lots", "many", "a few", "n/a"]))
            data = dumps(record)
        else:  # a pasted wall of text, far beyond the platform's own limit
            base = (record["text"] or "spam") + " "
            record["text"] = (base * (5400 // len(base) + 1))[:5400]
            data = dumps(record)
        out.setdefault(plain[f], []).append(BadLine(row, data, rid, kind, fld))
    return out


# --- advance: the next drop ---------------------------------------------------------

POSTS_PER_DAY = 0.009          # per active profile, about three a year
NEW_PROFILES_PER_DAY = 0.0002  # of all people


def advance(ctx: Context, truth: pl.DataFrame, since: int) -> None:
    rng = ctx.rng("social")
    people = ctx.people
    days = (ctx.now - since) / clock.DAY
    mine = truth.filter(pl.col("source") == "social")
    parts = mine["source_record_id"].str.split_exact(":", 1).struct.unnest()
    owner = (mine["person_id"].str.slice(1).cast(pl.Int64) - 1).to_numpy()
    platform = parts["field_0"].to_numpy().astype(object)
    handle = parts["field_1"].to_numpy().astype(object)
    old = profile_frame(ctx, rng, owner, platform, handle)
    end = np.where(people.active_until(ctx.now)[owner] > since, ctx.now, since)
    drop = [posts(ctx, rng, old, np.full(len(owner), since), end, POSTS_PER_DAY, False, 1)]

    has = np.zeros(len(people), dtype=bool)
    has[owner] = True
    candidates = np.flatnonzero(~has & (people.active_until(ctx.now) > since))
    share = min(1.0, NEW_PROFILES_PER_DAY * days * len(people) / max(1, len(candidates)))
    fresh = new_profiles(ctx, rng, events.pick(rng, candidates, share),
                         set(zip(platform, handle, strict=True)))
    if fresh.height:
        ctx.add_truth("social", "posts", (fresh["platform"] + ":" + fresh["handle"]).to_list(),
                      fresh["person"].to_numpy())
        start = clock.uniform(rng, since, ctx.now, fresh.height)
        drop.append(posts(ctx, rng, fresh, start, np.full(fresh.height, ctx.now),
                          POSTS_PER_DAY, True))
    df = pl.concat(drop).sort("_t", "post_id")
    name = f"social_{clock.fmt_one(ctx.now, '%Y%m%d')}.jsonl"
    ctx.count("social/posts", write_drop(ctx, name, df))
