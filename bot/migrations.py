"""Numbered schema migrations, applied in order at start-up (sqlite-utils ``Migrations``).

Never edit a migration that has shipped: add the next number instead.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.domain import declaration_text

migrations = Migrations("incident_bot")


@migrations(name="0001_core_loop")
def m0001_core_loop(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            severity TEXT NOT NULL,
            status TEXT NOT NULL,
            commander_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            resolved_at TEXT,
            channel_id TEXT,
            channel_name TEXT,
            intro_ts TEXT,
            request_key TEXT UNIQUE,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX incidents_by_channel ON incidents (channel_id, created_at)")
    db.execute(
        """
        CREATE TABLE timeline_entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            actor_id TEXT,
            actor_name TEXT,
            source TEXT NOT NULL,
            source_key TEXT UNIQUE,
            source_event_ts TEXT,
            permalink TEXT,
            removed_at TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX timeline_by_incident ON timeline_entries (incident_id, at)")
    db.execute(
        """
        CREATE TABLE processed_events (
            event_id TEXT PRIMARY KEY,
            received_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE slack_users (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            tz TEXT,
            fetched_at TEXT NOT NULL
        )
        """
    )


@migrations(name="0002_action_items")
def m0002_action_items(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE action_items (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            text TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            horizon TEXT NOT NULL,
            due_date TEXT NOT NULL,
            due_at TEXT NOT NULL,
            verification TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            drop_reason TEXT,
            next_nudge_at TEXT,
            nudge_count INTEGER NOT NULL DEFAULT 0,
            escalated INTEGER NOT NULL DEFAULT 0,
            request_key TEXT UNIQUE,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX action_items_by_incident ON action_items (incident_id)")
    db.execute("CREATE INDEX action_items_by_owner ON action_items (owner_id, status)")
    # The nudge scan's query: open items whose next nudge is due.
    db.execute("CREATE INDEX action_items_to_nudge ON action_items (status, next_nudge_at)")
    db.execute(
        """
        CREATE TABLE action_item_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id INTEGER NOT NULL REFERENCES action_items (id),
            at TEXT NOT NULL,
            actor_id TEXT NOT NULL,
            change TEXT NOT NULL,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX action_item_changes_by_item ON action_item_changes (item_id, at)")
    db.execute(
        """
        CREATE TABLE nudges (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id INTEGER NOT NULL REFERENCES action_items (id),
            number INTEGER NOT NULL,
            escalate INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            sent_at TEXT,
            dm_channel TEXT,
            dm_ts TEXT,
            escalation_sent_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX nudges_by_status ON nudges (status, claimed_at)")
    db.execute("CREATE INDEX nudges_by_item ON nudges (item_id, number)")


@migrations(name="0003_incident_lifecycle")
def m0003_incident_lifecycle(db: Database) -> None:
    db.execute("ALTER TABLE incidents ADD COLUMN comms_id TEXT")
    db.execute("ALTER TABLE incidents ADD COLUMN scribe_id TEXT")
    db.execute(
        """
        CREATE TABLE incident_fields (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, name)
        )
        """
    )
    db.execute("CREATE INDEX incidents_by_status ON incidents (status, created_at)")


@migrations(name="0004_message_captures")
def m0004_message_captures(db: Database) -> None:
    # A message on the timeline can be held by several captures at once (its pin, each
    # person's 📌 reaction, the "Add to timeline" shortcut); its entry stays while any holds it.
    db.execute(
        """
        CREATE TABLE captured_messages (
            source_key TEXT PRIMARY KEY,
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            version_ts TEXT,
            deleted_at TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE message_captures (
            source_key TEXT NOT NULL REFERENCES captured_messages (source_key),
            via TEXT NOT NULL,
            held INTEGER NOT NULL,
            event_ts TEXT,
            changed_at TEXT NOT NULL,
            PRIMARY KEY (source_key, via)
        )
        """
    )
    # Pinned messages recorded before now become messages held by their pin, with the pin
    # event's ts, so that an older event still never undoes a newer one.
    db.execute(
        """
        INSERT INTO captured_messages (source_key, incident_id, version_ts, deleted_at, created_at)
        SELECT source_key, incident_id, NULL, NULL, created_at FROM timeline_entries
        WHERE source = 'pin' AND source_key LIKE 'pin:%'
        """
    )
    db.execute(
        """
        INSERT INTO message_captures (source_key, via, held, event_ts, changed_at)
        SELECT source_key, 'pin', removed_at IS NULL, source_event_ts,
               COALESCE(removed_at, created_at)
        FROM timeline_entries WHERE source = 'pin' AND source_key LIKE 'pin:%'
        """
    )


@migrations(name="0005_outbox")
def m0005_outbox(db: Database) -> None:
    # Replies Slack refused after retries, posted again once Slack answers.
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel TEXT NOT NULL,
            text TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX outbox_due ON outbox (next_attempt_at)")


@migrations(name="0006_jobs")
def m0006_jobs(db: Database) -> None:
    # Work an ack promised, kept until it is done (bot/jobs.py). ``key`` makes adding a job
    # idempotent; a claim is an UPDATE that sets ``claim_token``.
    db.execute(
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            incident_id TEXT,
            requested_by TEXT,
            notify_channel TEXT,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            run_after TEXT NOT NULL,
            claimed_at TEXT,
            claim_token TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX jobs_due ON jobs (state, run_after)")


@migrations(name="0007_record_truth")
def m0007_record_truth(db: Database) -> None:
    # The declaration becomes a timeline entry (issue 10): each incident gets one, at its
    # start, by its commander (the declarer, unless a role change since moved it: no better
    # record exists), at the severity it was declared with: the first "Severity changed from X"
    # note names it, else it never changed. Reopenings were recorded as "declared" entries;
    # they are "reopened" entries now, so the declaration is the one "declared" of the bot.
    db.execute(
        "UPDATE timeline_entries SET kind = 'reopened' WHERE source = 'lifecycle' "
        "AND kind = 'declared' AND text LIKE 'Incident reopened%'"
    )
    incidents = db.execute(
        "SELECT id, title, severity, commander_id, started_at FROM incidents WHERE id NOT IN "
        "(SELECT incident_id FROM timeline_entries WHERE source_key = 'declared:' || incident_id)"
    ).fetchall()
    for incident_id, title, severity, commander_id, started_at in incidents:
        first_change = db.execute(
            "SELECT text FROM timeline_entries WHERE incident_id = ? AND source = 'lifecycle' "
            "AND text LIKE 'Severity changed from %' ORDER BY at, id LIMIT 1",
            [incident_id],
        ).fetchone()
        if first_change is not None:
            severity = first_change[0].split()[3]
        db.execute(
            "INSERT INTO timeline_entries (incident_id, at, kind, text, actor_id, source, "
            "source_key, created_at) VALUES (?, ?, 'declared', ?, ?, 'lifecycle', ?, ?)",
            [incident_id, started_at, declaration_text(severity, title), commander_id,
             f"declared:{incident_id}", started_at],
        )  # fmt: skip


@migrations(name="0008_private_incidents")
def m0008_private_incidents(db: Database) -> None:
    # A private incident (its channel private) is shown only to its channel's members.
    db.execute("ALTER TABLE incidents ADD COLUMN is_private INTEGER NOT NULL DEFAULT 0")
    # The trigger_id of every state-changing slash command, so that a replay changes nothing.
    db.execute(
        "CREATE TABLE handled_commands (trigger_id TEXT PRIMARY KEY, handled_at TEXT NOT NULL)"
    )


@migrations(name="0009_durability")
def m0009_durability(db: Database) -> None:
    # The outbox is retired into jobs (bot/work/replies.py): a reply still waiting is a
    # ``reply`` job now, posted once with its key in the message's metadata.
    db.execute(
        """
        INSERT OR IGNORE INTO jobs (key, kind, payload, state, attempts, run_after, created_at)
        SELECT 'outbox:' || id, 'reply', json_object('channel', channel, 'text', text),
               'pending', attempts, next_attempt_at, queued_at
        FROM outbox
        """
    )
    db.execute("DROP TABLE outbox")


@migrations(name="0010_canvas")
def m0010_canvas(db: Database) -> None:
    # The incident's channel canvas, and per section what the bot last wrote there (issue 12).
    db.execute(
        """
        CREATE TABLE canvases (
            incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
            channel_id TEXT NOT NULL,
            canvas_id TEXT,
            created_at TEXT NOT NULL,
            refreshed_at TEXT,
            requested_by TEXT,
            fingerprint TEXT,
            final_done INTEGER NOT NULL DEFAULT 0,
            auto_off INTEGER NOT NULL DEFAULT 0,
            queued_at TEXT,
            lease_token TEXT,
            leased_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE canvas_sections (
            incident_id TEXT NOT NULL REFERENCES canvases (incident_id),
            key TEXT NOT NULL,
            written TEXT,
            pending TEXT,
            written_at TEXT,
            PRIMARY KEY (incident_id, key)
        )
        """
    )


@migrations(name="0011_review")
def m0011_review(db: Database) -> None:
    # The post-mortem's review (bot/review/workflow.py): one row per reviewed post-mortem.
    db.execute(
        """
        CREATE TABLE reviews (
            incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
            status TEXT NOT NULL,
            rounds INTEGER NOT NULL DEFAULT 0,
            submitted_at TEXT,
            updated_at TEXT,
            updated_by TEXT,
            draft_url TEXT,
            draft_key TEXT
        )
        """
    )
    # One line of Review and Approval. draft_key / dm_key name the job that uploaded the draft
    # for review / sent this reviewer's DM, so a job run again does neither twice.
    db.execute(
        """
        CREATE TABLE review_signers (
            incident_id TEXT NOT NULL REFERENCES reviews (incident_id),
            role TEXT NOT NULL,
            user_id TEXT NOT NULL,
            requested_at TEXT NOT NULL,
            approved_at TEXT,
            dm_key TEXT,
            PRIMARY KEY (incident_id, role)
        )
        """
    )
    # Images a pinned message carried (a pasted screenshot), for Data and Evidence.
    db.execute(
        """
        CREATE TABLE pinned_images (
            source_key TEXT NOT NULL,
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            title TEXT NOT NULL,
            permalink TEXT NOT NULL,
            PRIMARY KEY (source_key, permalink)
        )
        """
    )
    # The 30-day follow-up post: a row is its claim, posted_at says it went out.
    db.execute(
        """
        CREATE TABLE followups (
            incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
            claimed_at TEXT NOT NULL,
            posted_at TEXT
        )
        """
    )


@migrations(name="0012_alerts")
def m0012_alerts(db: Database) -> None:
    # Every key a delivery or alert event is known by (durable deduplication across restarts),
    # with the incident it went to: NULL is an alert no incident took (the unlinked count).
    db.execute(
        """
        CREATE TABLE alert_keys (
            key TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            incident_id TEXT REFERENCES incidents (id),
            received_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX alert_keys_unlinked ON alert_keys (incident_id, received_at)")
    # A source's group key, alert id or alert name → the incident its alerts go to.
    db.execute(
        """
        CREATE TABLE alert_links (
            source TEXT NOT NULL,
            key TEXT NOT NULL,
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            how TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (source, key)
        )
        """
    )


@migrations(name="0013_trackers")
def m0013_trackers(db: Database) -> None:
    # Each item's issue in the team's tracker, and what the bot last pushed to it.
    db.execute(
        """
        CREATE TABLE tracker_links (
            item_id INTEGER NOT NULL REFERENCES action_items (id),
            tracker TEXT NOT NULL,
            issue_id TEXT NOT NULL,
            issue_key TEXT NOT NULL,
            url TEXT NOT NULL,
            pushed_status TEXT,
            pushed_owner TEXT,
            pushed_due TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (item_id, tracker)
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX tracker_links_by_issue ON tracker_links (tracker, issue_id)")
    # Serves the view below, whose newest link per item needs no sort.
    db.execute("CREATE INDEX tracker_links_by_item ON tracker_links (item_id, created_at)")
    # Webhook deliveries, recorded before the 2xx so a redelivery changes nothing.
    db.execute(
        """
        CREATE TABLE tracker_deliveries (
            delivery TEXT PRIMARY KEY,
            received_at TEXT NOT NULL
        )
        """
    )
    # Items as shown: with their issue (the newest link, should TRACKER have changed).
    db.execute(
        """
        CREATE VIEW action_items_shown AS
        SELECT a.*,
            (SELECT l.issue_key FROM tracker_links l WHERE l.item_id = a.id
             ORDER BY l.created_at DESC LIMIT 1) AS issue_key,
            (SELECT l.url FROM tracker_links l WHERE l.item_id = a.id
             ORDER BY l.created_at DESC LIMIT 1) AS issue_url
        FROM action_items a
        """
    )
    # Slack users and the tracker accounts found for them (by email or GITHUB_USERS).
    db.execute(
        """
        CREATE TABLE tracker_users (
            tracker TEXT NOT NULL,
            slack_id TEXT NOT NULL,
            tracker_user TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (tracker, slack_id)
        )
        """
    )


def apply(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending
