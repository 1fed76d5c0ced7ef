"""Database triggers that make the audit table append-only below the ORM.

The model and its queryset refuse updates and deletes, but raw SQL, a `QuerySet.update`
reached through another model's cascade, or a future bug would not ask them. These
triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) in the database itself, for
every client. They are a guard against the application and its mistakes, not against
the database's owner, who can drop them; on PostgreSQL a deployment can go further and
grant the application's role only INSERT and SELECT on the table.

One definition, used by the migration and by the test harness (which has to empty the
table between transactional tests).
"""

from __future__ import annotations

TABLE = "audit_auditevent"
MESSAGE = "audit trail is append-only"

_SQLITE_CREATE = [
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
_SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update;",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;",
]

_PG_FUNCTION = "audit_refuse_change"
_PG_CREATE = [
    f"""CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$;""",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE};",
    f"CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}();",
    # TRUNCATE fires no row trigger: refuse it with a statement trigger.
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};",
    f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}();",
]
_PG_DROP = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE};",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};",
    f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}();",
]


def create_sql(vendor: str) -> list[str]:
    """The statements that install the triggers on `vendor` (a `connection.vendor`)."""
    return {"sqlite": _SQLITE_CREATE, "postgresql": _PG_CREATE}.get(vendor, [])


def drop_sql(vendor: str) -> list[str]:
    return {"sqlite": _SQLITE_DROP, "postgresql": _PG_DROP}.get(vendor, [])


def install(schema_editor) -> None:
    for statement in create_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def uninstall(schema_editor) -> None:
    for statement in drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)
