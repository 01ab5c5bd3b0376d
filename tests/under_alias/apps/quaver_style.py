"""The same app renamed for Quaver: ``from quaver import ...``."""


from _body import BODY

exec(BODY)
