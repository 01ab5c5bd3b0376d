"""The SQLite connection, one per app context, kept in ``g``."""

import os
import sqlite3
from datetime import datetime

import click
from quaver import current_app, g
from quaver.cli import with_appcontext


def get_db():
    """The connection for this app context, opened on first use."""
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"], detect_types=sqlite3.PARSE_DECLTYPES)
        g.db.row_factory = sqlite3.Row
    return g.db


async def close_db(exc=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    """Drop and recreate the tables."""
    db = get_db()
    with open(os.path.join(current_app.root_path, "schema.sql"), encoding="utf8") as schema:
        db.executescript(schema.read())


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create empty tables, deleting any data."""
    init_db()
    click.echo("Database ready.")


sqlite3.register_converter("timestamp", lambda value: datetime.fromisoformat(value.decode()))


def init_app(app):
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
