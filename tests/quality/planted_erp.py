"""Seven ERP rows that break silver rules, written into a simulated ERP before its first run,
each with the record key and the rule that must quarantine it."""

import sqlite3
from pathlib import Path

# (quarantine table, record key, rule)
PLANTED = [
    ("stg_erp__order_lines", "SO000000001-901", "line_quantity_not_negative"),
    ("stg_erp__order_lines", "SO-MISSING-1-1", "line_order_exists"),
    ("stg_erp__order_lines", "SO000000001-902", "line_product_exists"),
    ("stg_erp__invoices", "INV-PLANTED-EARLY", "invoice_not_before_order"),
    ("stg_erp__invoices", "INV-PLANTED-NEG", "invoice_amount_not_negative"),
    ("stg_erp__sales_orders", "SO-PLANTED-NOCUST", "order_customer_exists"),
    ("stg_erp__sales_orders", "SO-PLANTED-XXX", "order_currency_is_iso"),
]


def plant(erp_db: Path) -> None:
    con = sqlite3.connect(erp_db)
    with con:
        order_no, customer_no, ordered_at, currency = con.execute(
            "select order_no, customer_no, order_date, currency from sales_orders order by order_no limit 1"
        ).fetchone()
        assert order_no == "SO000000001"
        sku = con.execute("select sku from products order by sku limit 1").fetchone()[0]
        ts = ordered_at
        year_before = f"{int(ordered_at[:4]) - 1}{ordered_at[4:]}"
        con.executemany("insert into order_lines values (?, ?, ?, ?, ?, ?)", [
            (order_no, 901, sku, -3, 10.0, ts),
            ("SO-MISSING-1", 1, sku, 1, 10.0, ts),
            (order_no, 902, "SKU-NOT-IN-CATALOGUE", 1, 10.0, ts),
        ])
        con.executemany("insert into invoices values (?, ?, ?, ?, ?, ?, ?, ?)", [
            ("INV-PLANTED-EARLY", order_no, customer_no, year_before, 10.0, currency, None, ts),
            ("INV-PLANTED-NEG", order_no, customer_no, ts, -120.0, currency, None, ts),
        ])
        con.executemany("insert into sales_orders values (?, ?, ?, ?, ?, ?)", [
            ("SO-PLANTED-NOCUST", "K-NOT-A-CUSTOMER", ts, "delivered", currency, ts),
            ("SO-PLANTED-XXX", customer_no, ts, "delivered", "XXX", ts),
        ])
    con.close()
