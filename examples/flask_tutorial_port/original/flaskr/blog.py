"""Posts: everyone reads them, their authors write, edit and delete them."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)


@bp.route("/")
def index():
    posts = get_db().execute(
        "SELECT p.id, title, body, created, author_id, username"
        " FROM post p JOIN user u ON p.author_id = u.id"
        " ORDER BY created DESC, p.id DESC"
    ).fetchall()
    return render_template("blog/index.html", posts=posts)


def get_post(id, check_author=True):
    """The post ``id``: 404 if there is none, 403 if it is someone else's."""
    post = get_db().execute(
        "SELECT p.id, title, body, created, author_id, username"
        " FROM post p JOIN user u ON p.author_id = u.id WHERE p.id = ?",
        (id,),
    ).fetchone()
    if post is None:
        abort(404, f"Post {id} doesn't exist.")
    if check_author and post["author_id"] != g.user["id"]:
        abort(403)
    return post


def read_post_form(form):
    """The title and body sent, or None after flashing what is missing."""
    title, body = form["title"].strip(), form["body"]
    if not title:
        flash("Title is required.", "error")
        return None
    return title, body


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create():
    form = request.form
    if request.method == "POST":
        fields = read_post_form(form)
        if fields is not None:
            db = get_db()
            db.execute("INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)", (*fields, g.user["id"]))
            db.commit()
            flash("Post published.")
            return redirect(url_for("blog.index"))
    return render_template("blog/create.html", form=form)


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id):
    post = get_post(id)
    form = request.form
    if request.method == "POST":
        fields = read_post_form(form)
        if fields is not None:
            db = get_db()
            db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (*fields, id))
            db.commit()
            flash("Post updated.")
            return redirect(url_for("blog.index"))
    return render_template("blog/update.html", post=post, form=form)


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id):
    get_post(id)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    flash("Post deleted.")
    return redirect(url_for("blog.index"))
