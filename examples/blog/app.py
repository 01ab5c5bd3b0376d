"""A small blog on Quaver: accounts with a login form, posts, flash messages.

Run it with ``python app.py`` (or ``hypercorn app:app``) and open
http://127.0.0.1:5000. Posts and accounts are kept in ``blog.sqlite`` next
to this file unless ``BLOG_DATABASE`` names another file.
"""

from __future__ import annotations

import os
import secrets
from functools import wraps
from typing import Any

from db import Database
from werkzeug.security import check_password_hash, generate_password_hash

from quaver import (
    Quaver,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from quaver.views import MethodView

HERE = os.path.dirname(os.path.abspath(__file__))


def login_required(view: Any) -> Any:
    """Send visitors who are not logged in to the login form, and back after."""

    @wraps(view)
    async def wrapper(**kwargs: Any) -> Any:
        if g.user is None:
            await flash("Log in first.", "error")
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        return await view(**kwargs)

    return wrapper


def csrf_token() -> str:
    """The token every form of this session sends back (see ``check_csrf``)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only paths on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("index")


class PostEditor(MethodView):
    """The form to write a new post (no id) or edit one of yours."""

    decorators = [login_required]

    async def get(self, post_id: int | None = None) -> Any:
        post = await self.post_to_edit(post_id) if post_id is not None else None
        return await render_template("edit.html", post=post, form={})

    async def post(self, post_id: int | None = None) -> Any:
        existing = await self.post_to_edit(post_id) if post_id is not None else None
        form = await request.form
        title, body = form.get("title", "").strip(), form.get("body", "").strip()
        if not title or not body:
            await flash("A post needs a title and a body.", "error")
            return await render_template("edit.html", post=existing, form=form), 400
        db: Database = g.db
        if existing is None:
            post_id = await db.run(
                "INSERT INTO post (author_id, title, body) VALUES (?, ?, ?)", g.user["id"], title, body
            )
            await flash("Published.", "success")
        else:
            await db.run("UPDATE post SET title = ?, body = ? WHERE id = ?", title, body, post_id)
            await flash("Saved.", "success")
        return redirect(url_for("show_post", post_id=post_id))

    @staticmethod
    async def post_to_edit(post_id: int) -> dict[str, Any]:
        post = await find_post(post_id)
        if post["author_id"] != g.user["id"]:
            abort(403)
        return post


async def find_post(post_id: int) -> dict[str, Any]:
    post = await g.db.one(
        "SELECT post.*, user.username FROM post JOIN user ON user.id = post.author_id WHERE post.id = ?", post_id
    )
    if post is None:
        abort(404)
    return post


def create_app(config: dict[str, Any] | None = None) -> Quaver:
    """The blog app; ``config`` overrides the defaults (tests use it)."""
    app = Quaver(__name__, root_path=HERE)
    app.config.update(
        SECRET_KEY=os.environ.get("BLOG_SECRET_KEY", "change me: a long random string"),
        DATABASE=os.environ.get("BLOG_DATABASE", os.path.join(HERE, "blog.sqlite")),
    )
    app.config.update(config or {})
    database = Database(app.config["DATABASE"])
    app.add_template_global(csrf_token)

    @app.before_serving
    async def create_tables() -> None:
        await database.create_tables()

    @app.before_request
    async def load_user() -> None:
        g.db = database
        user_id = session.get("user_id")
        g.user = await database.one("SELECT id, username FROM user WHERE id = ?", user_id) if user_id else None

    @app.before_request
    async def check_csrf() -> None:
        if request.method == "POST":
            form = await request.form
            if not secrets.compare_digest(form.get("csrf", ""), session.get("csrf", "")):
                abort(400, "The form has expired; reload the page and try again.")

    @app.get("/")
    async def index() -> str:
        posts = await database.all(
            "SELECT post.*, user.username FROM post JOIN user ON user.id = post.author_id"
            " ORDER BY post.created DESC, post.id DESC"
        )
        return await render_template("index.html", posts=posts)

    @app.get("/post/<int:post_id>")
    async def show_post(post_id: int) -> str:
        return await render_template("post.html", post=await find_post(post_id))

    editor = PostEditor.as_view("edit_post")
    app.add_url_rule("/new", view_func=editor, endpoint="new_post", methods=["GET", "POST"])
    app.add_url_rule("/post/<int:post_id>/edit", view_func=editor, endpoint="edit_post", methods=["GET", "POST"])

    @app.post("/post/<int:post_id>/delete")
    @login_required
    async def delete_post(post_id: int) -> Any:
        await PostEditor.post_to_edit(post_id)
        await database.run("DELETE FROM post WHERE id = ?", post_id)
        await flash("Deleted.", "success")
        return redirect(url_for("index"))

    @app.route("/register", methods=["GET", "POST"])
    async def register() -> Any:
        form = await request.form
        if request.method == "POST":
            username, password = form.get("username", "").strip(), form.get("password", "")
            if not username or len(password) < 8:
                await flash("Choose a username and a password of 8 characters or more.", "error")
            elif await database.one("SELECT id FROM user WHERE username = ?", username):
                await flash(f"The name {username} is taken.", "error")
            else:
                await database.run(
                    "INSERT INTO user (username, password_hash) VALUES (?, ?)",
                    username,
                    generate_password_hash(password),
                )
                await flash("Account created; log in below.", "success")
                return redirect(url_for("login"))
        return await render_template("register.html", form=form)

    @app.route("/login", methods=["GET", "POST"])
    async def login() -> Any:
        form = await request.form
        if request.method == "POST":
            user = await database.one("SELECT * FROM user WHERE username = ?", form.get("username", ""))
            if user is None or not check_password_hash(user["password_hash"], form.get("password", "")):
                await flash("Wrong username or password.", "error")
                return await render_template("login.html", form=form), 401
            session.clear()  # a new session on login: nothing carried over from before
            session["user_id"] = user["id"]
            session.permanent = form.get("remember") == "on"
            await flash(f"Welcome back, {user['username']}.", "success")
            return redirect(safe_next(request.args.get("next")))
        return await render_template("login.html", form=form)

    @app.post("/logout")
    async def logout() -> Any:
        session.clear()
        await flash("Logged out.", "success")
        return redirect(url_for("index"))

    @app.errorhandler(404)
    async def not_found(error: Exception) -> Any:
        return await render_template("error.html", message="There is nothing here."), 404

    @app.errorhandler(403)
    async def forbidden(error: Exception) -> Any:
        return await render_template("error.html", message="That is not yours to change."), 403

    return app


app = create_app()

if __name__ == "__main__":
    app.run(debug=bool(os.environ.get("BLOG_DEBUG")))
