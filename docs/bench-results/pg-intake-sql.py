#!/usr/bin/env python3
"""pgbench scripts that send what one PostgreSQL intake sends (docs/PERFORMANCE.md, eleventh
pass): the statement of `WITH` parts a server built at 6bf9031 sent for a received dossier
with two components and six steps (captured from the statement log), with literal values.
It measures PostgreSQL's own cost of an intake, without motcua's server in the way.

    python3 pg-intake-sql.py K > k.sql     # K intakes in one statement (K = 1: as motcua)
    STEPS=1 python3 pg-intake-sql.py 1     # one step row instead of six
    NOOUTBOX=1 python3 pg-intake-sql.py 1  # without the two outbox rows
    PGSSLMODE=disable pgbench -n -M prepared -c 16/K -j 2 -T 10 -f k.sql DB

DB: a database migrated by `motcua` with the bench's catalog imported (`motcua-bench --keep`
leaves agencies.csv and procedures.json) and a sequence row per agency for 2026-11-29
(`INSERT INTO dossier_sequences (agency_id, day, last_seq) SELECT id, '2026-11-29', 0 FROM
agencies`). Client c writes to agencies 23 + (c*K + i) % 16, so no two clients share the rows
of an agency, as no two intakes of an agency run at once in one motcua process. The guard on
the sequence row is a plain increment here. A written-down experiment, not a maintained
tool: it follows the schema of 6bf9031.
"""
import os
import sys


def intake(i, a, prefix):
    d = f"(:id::bigint + {i})"
    parts = [
        f"{prefix}s AS (UPDATE dossier_sequences SET last_seq = last_seq + 1 WHERE day = '2026-11-29' "
        f"AND agency_id = (SELECT id FROM agencies WHERE id = {a}) RETURNING last_seq)",
        f"""{prefix}d AS (INSERT INTO dossiers (id, code, agency_id, procedure_id, procedure_version, case_code, channel,
status, applicant_name, applicant_kind, applicant_id_number, submitter_name, phone, email, address, request,
submitted_at, received_at, accept_due_at, due_at, original_due_at, received_by, search_text, created_at, updated_at,
last_hash, event_count)
VALUES ({d}, 'X-' || {d}, {a}, 1, 1, 'chung', 'direct', 'received', 'Nguyễn Văn Thử', 'person', '574952067156', '',
'0952067156', '', 'Thôn 1, xã Thử Nghiệm', 'Hồ sơ thử nghiệm hiệu năng', NULL, now(), NULL, '2026-12-11 10:00:00+00',
'2026-12-11 10:00:00+00', 'bench.desk3', 'nguyen van thu 574952067156 0952067156 000.30.03.h99-261129-0066', now(),
now(), 'c44156ebf9f85bfb006bb5688b6820e7d28ca22dfe4281d333b75d4cae727c87', 1))""",
    ]
    counters = [("d", "2026-11-30", 2), ("d", "2026-12-12", 6), ("m", "2026-11-01", 2),
                ("m", "2026-12-01", 6), ("y", "2026-01-01", 2), ("y", "2026-01-01", 6)]
    rc = ",".join(f"('{g}', '{b}', {a}, 1, {m}, 1)" for g, b, m in counters)
    parts.append(
        f"{prefix}r AS (INSERT INTO report_counts (grain, bucket, agency_id, procedure_id, metric, n) VALUES {rc} "
        "ON CONFLICT (grain, bucket, agency_id, procedure_id, metric) DO UPDATE SET n = report_counts.n + excluded.n)"
    )
    parts.append(
        f"""{prefix}c AS (INSERT INTO dossier_components (dossier_id, seq, kind, name, originals, copies, required,
provided, file_sha256, added_at)
VALUES ({d}, 1, 'component', 'Tờ khai', 1, 0, true, true,
'5a838678058f6de375e8635b5f2fea47a4e5f07cb1a882a44b10f39abc6f34ff', now()),
({d}, 2, 'component', 'Giấy tờ kèm theo', 0, 1, false, false, NULL, now()))"""
    )
    steps = ",".join(
        f"({d}, {k}, 'Bước {k}', 'specialist', {a}, 'receiving', 500, "
        f"{'now()' if k == 1 else 'NULL'}, {'now()' if k == 1 else 'NULL'})"
        for k in range(1, int(os.environ.get("STEPS", "6")) + 1)
    )
    parts.append(
        f"{prefix}t AS (INSERT INTO dossier_steps (dossier_id, seq, name, role, agency_id, agency_rule, "
        f"quota_thousandths, started_at, due_at) VALUES {steps})"
    )
    parts.append(
        f"""{prefix}e AS (INSERT INTO dossier_events (dossier_id, seq, at, actor, action, from_status, to_status,
step_seq, note, details, prev_hash, hash)
VALUES ({d}, 1, now(), 'bench.desk3', 'receive', 'submitted', 'received', NULL, 'Hồ sơ thử nghiệm hiệu năng',
'{{"channel":"direct"}}', '0000000000000000000000000000000000000000000000000000000000000000',
'c44156ebf9f85bfb006bb5688b6820e7d28ca22dfe4281d333b75d4cae727c87'))"""
    )
    if not os.environ.get("NOOUTBOX"):
        parts.append(
            f"{prefix}o AS (INSERT INTO outbox (topic, dossier_id, payload, created_at) "
            f"VALUES ('dossier.received', {d}, '{{}}', now()),('sms', {d}, '{{}}', now()))"
        )
    return parts


k = int(sys.argv[1])
parts = []
for i in range(k):
    parts += intake(i, f"(23 + ((:client_id * {k} + {i}) % 16))", f"i{i}")
sql = "WITH " + ",\n".join(parts) + "\nSELECT " + " + ".join(f"(SELECT count(*) FROM i{i}s)" for i in range(k)) + ";"
print("\\set id random(1, 1000000000) * 100")
print(sql.replace("\n", " "))
