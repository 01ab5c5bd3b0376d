"""An app as written for Quart: ``from quart import ...``."""


from _body import BODY

exec(BODY)
