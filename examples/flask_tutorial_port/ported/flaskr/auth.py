"""Registering, logging in and out; ``g.user`` and ``login_required``."""

import functools

from quaver import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")


def login_required(view):
    """Send visitors who are not logged in to the login page."""

    @functools.wraps(view)
    async def wrapped_view(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login"))
        return await view(**kwargs)

    return wrapped_view


@bp.before_app_request
async def load_logged_in_user():
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
    else:
        g.user = get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()


@bp.route("/register", methods=("GET", "POST"))
async def register():
    form = await request.form
    if request.method == "POST":
        username = form["username"].strip()
        password = form["password"]
        error = None
        if not username:
            error = "Username is required."
        elif not password:
            error = "Password is required."
        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, generate_password_hash(password)),
                )
                db.commit()
            except db.IntegrityError:
                error = f"User {username} is already registered."
            else:
                await flash("Registered. Please log in.")
                return redirect(url_for("auth.login"))
        await flash(error, "error")
    return await render_template("auth/register.html", form=form)


@bp.route("/login", methods=("GET", "POST"))
async def login():
    form = await request.form
    if request.method == "POST":
        username = form["username"]
        user = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
        if user is None or not check_password_hash(user["password"], form["password"]):
            await flash("Incorrect username or password.", "error")
        else:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(url_for("index"))
    return await render_template("auth/login.html")


@bp.route("/logout")
async def logout():
    session.clear()
    return redirect(url_for("index"))
