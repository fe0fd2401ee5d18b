"""Authenticated links from social profiles to customer records, written after the sources.

Real CDPs seldom have to guess that @bob_smith is the CRM's Bob Smith: source systems record
the link themselves when the customer proves who they are.

- **CRM, social care.** A DM to the brand lands in the social-care tool (Salesforce's Social
  Persona, HubSpot's ``twitterhandle``), and the agent who answers it links the sender's
  profile to the person's contact: ``social_profile`` = ``platform:handle``, and the contact's
  ``updated_at`` moves to the DM if that is later. The agent decides once, at the person's
  first DM after the contact exists; a person with several contacts is linked on the first
  (primary) one, and a contact holds one profile.
- **ERP, web shop.** A customer account created with a social login keeps the provider's
  account as ``social_login`` = ``platform:handle``. It is part of the account from sign-up,
  so ``created_at`` and ``updated_at`` stay as they are: the ERP never changed the row later,
  and the simulator's profile start is the first post, not the registration.

Both use the id format of the social profile's truth row, so every link names a profile of
the same true person. The world is generated in the order crm, erp, social, iot: this pass
runs after the sources, reads what social left in the context and updates the CRM and ERP
stores, with its own random streams, so the rest of the world stays byte for byte as it was.

``world.advance`` adds no links: whether a later DM is a person's first one (the agent's
only decision) is known only from the DM history in the landing files. Contacts created by
``advance`` carry ``social_profile: null``; existing links are kept.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import polars as pl

from demo import clock
from demo.context import Context
from demo.crm import person_index, update_record

ATTACH = 0.7  # agents link most DM senders; the rest are answered and closed without a link
LOGIN_ZH, LOGIN_OTHER = 0.5, 0.25  # WeChat login is the norm in Chinese web shops
# Shops' login buttons, most used first; Instagram offers no login to third-party shops.
LOGIN_PLATFORMS = ("wechat", "weibo", "facebook", "x")


def generate(ctx: Context) -> None:
    """Write the CRM's and the ERP's links to the profiles social has just created."""
    profiles = ctx.social_profiles.with_columns(
        profile_id=pl.col("platform") + ":" + pl.col("handle"))
    truth = pl.concat(ctx.truth)
    attach_profiles(ctx, profiles, truth)
    social_logins(ctx, profiles, truth)


def _records(truth: pl.DataFrame, source: str, entity: str, key: str) -> pl.DataFrame:
    mine = truth.filter(pl.col("source") == source, pl.col("entity") == entity)
    return pl.DataFrame({key: mine["source_record_id"], "person": person_index(mine["person_id"])})


def attach_profiles(ctx: Context, profiles: pl.DataFrame, truth: pl.DataFrame) -> None:
    """Link the profile of each CRM contact's first DM with probability ATTACH."""
    con = sqlite3.connect(ctx.paths.crm_db)
    stored = pl.DataFrame(
        con.execute("SELECT id, updated_at, json_extract(payload, '$.created_at') FROM contacts")
        .fetchall(), schema=["id", "updated_at", "created_at"], orient="row")
    # The primary contact is the person's first one (ids grow with creation time).
    primary = (_records(truth, "crm", "contacts", "id").join(stored, on="id")
               .sort("id").unique("person", keep="first"))
    dms = ctx.social_dms.join(profiles, on=["platform", "handle"]).select(
        "person", "profile_id", "_t")
    first = (primary.join(dms, on="person")
             .filter(pl.col("_t") >= pl.col("created_at").str.to_datetime(clock.API_TS)
                     .dt.epoch("s"))
             .sort("_t", "profile_id").unique("person", keep="first").sort("id"))
    linked = first.filter(pl.Series(ctx.rng("links/crm").random(first.height) < ATTACH))
    for contact_id, updated_at, profile_id, t in linked.select(
            "id", "updated_at", "profile_id", "_t").iter_rows():
        update_record(con, "contacts", contact_id, {
            "social_profile": profile_id, "updated_at": max(updated_at, clock.fmt_one(t))})
    con.commit()
    con.close()


def social_logins(ctx: Context, profiles: pl.DataFrame, truth: pl.DataFrame) -> None:
    """Store a login-capable profile on ERP person customers: LOGIN_ZH or LOGIN_OTHER."""
    preference = {p: i for i, p in enumerate(LOGIN_PLATFORMS)}
    login = (profiles.filter(pl.col("platform").is_in(LOGIN_PLATFORMS))
             .with_columns(rank=pl.col("platform").replace_strict(preference))
             .sort("rank").unique("person", keep="first"))
    customers = (_records(truth, "erp", "customers", "customer_no")
                 .join(login, on="person").sort("customer_no"))
    share = np.where(ctx.people.is_zh()[customers["person"].to_numpy()], LOGIN_ZH, LOGIN_OTHER)
    chosen = customers.filter(pl.Series(ctx.rng("links/erp").random(customers.height) < share))
    con = sqlite3.connect(ctx.paths.erp_db)
    con.executemany("UPDATE customers SET social_login = ? WHERE customer_no = ?",
                    chosen.select("profile_id", "customer_no").iter_rows())
    con.commit()
    con.close()
