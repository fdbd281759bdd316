"""PostgresShape's old home, now components/fly/providers/postgres_shape.py: states pickled
before the move name its provider here (components/fly/providers/base.py)."""

from components.fly.providers.postgres_shape import PostgresShape, PostgresShapeProvider

__all__ = ["PostgresShape", "PostgresShapeProvider"]
