//! Dossiers and their steps at scale (issue 25): the migration that brought the step indexes
//! closes the steps finished dossiers left open.

use crate::support::TestDb;
use chrono::{DateTime, Duration, TimeZone, Utc};
use motcua_store::{Backend, Db};

/// The instant `load` counts from: dossier `i` is received `i` minutes after it.
fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// The instant `minutes` (an SQL expression) after `base`, as each backend stores instants.
fn at(backend: Backend, minutes: &str) -> String {
    match backend {
        Backend::Sqlite => {
            format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', '2026-01-01', '+' || ({minutes}) || ' minutes')")
        }
        Backend::Postgres => {
            format!("(timestamptz '2026-01-01 00:00:00+00' + ({minutes}) * interval '1 minute')")
        }
    }
}

/// A step's dossier, number, completion, who completed it, and its note.
type StepEnd = (i64, i64, Option<DateTime<Utc>>, Option<String>, String);

/// Dossiers finished before their open step was closed with them (withdrawn and stopped
/// before the service closed it; refused, which never has one, as a guard), then migration
/// 0013: their steps close, with who finished the dossier and their note; other steps stay.
async fn finished_dossiers_leave_no_open_step(t: TestDb) {
    let b = t.db.backend();
    let script = [
        "INSERT INTO fields (id, code, name) VALUES (1, 'F', 'F')".to_string(),
        "INSERT INTO agencies (id, code, name, level) VALUES (1, 'T.1', 'Xã', 'commune')".into(),
        "INSERT INTO procedures (id, code, name, field_id, level, time_limit) VALUES (1, 'P1', 'Thủ tục', 1, 'commune', '1 working-days')".into(),
        format!(
            "INSERT INTO dossiers (id, code, agency_id, procedure_id, channel, status, applicant_name, received_at, finished_at, created_at, updated_at)
             VALUES (1, 'A', 1, 1, 'direct', 'withdrawn', 'An', {t0}, {t1}, {t0}, {t1}),
                    (2, 'B', 1, 1, 'direct', 'stopped', 'An', {t0}, {t1}, {t0}, {t1}),
                    (3, 'C', 1, 1, 'direct', 'refused', 'An', {t0}, {t1}, {t0}, {t1}),
                    (4, 'D', 1, 1, 'direct', 'processing', 'An', {t0}, NULL, {t0}, {t0}),
                    (5, 'E', 1, 1, 'direct', 'withdrawn', 'An', {t0}, NULL, {t0}, {t2})",
            t0 = at(b, "0"),
            t1 = at(b, "60"),
            t2 = at(b, "90"),
        ),
        format!(
            "INSERT INTO dossier_steps (dossier_id, seq, name, role, agency_id, agency_rule, quota_thousandths, started_at, completed_at, note)
             VALUES (1, 1, 'Thụ lý', 'specialist', 1, 'receiving', 1000, {t0}, NULL, ''),
                    (1, 2, 'Duyệt', 'approver', 1, 'receiving', 1000, NULL, NULL, ''),
                    (2, 1, 'Thụ lý', 'specialist', 1, 'receiving', 1000, {t0}, NULL, 'cũ'),
                    (3, 1, 'Thụ lý', 'specialist', 1, 'receiving', 1000, {t0}, NULL, ''),
                    (4, 1, 'Thụ lý', 'specialist', 1, 'receiving', 1000, {t0}, NULL, ''),
                    (5, 1, 'Thụ lý', 'specialist', 1, 'receiving', 1000, {t0}, NULL, 'cũ')",
            t0 = at(b, "0"),
        ),
        "INSERT INTO dossier_events (dossier_id, seq, at, actor, action, from_status, to_status, note, prev_hash, hash)
         VALUES (1, 1, 'x', 'Trần Thị Bình', 'receive', 'submitted', 'received', '', '0', '1'),
                (1, 2, 'x', 'Lê Văn Cường', 'withdraw', 'processing', 'withdrawn', 'Công dân rút', '1', '2'),
                (2, 1, 'x', 'Phạm Duy', 'stop', 'processing', 'stopped', 'Dừng', '0', '1')"
            .into(),
    ];
    match &t.db {
        Db::Sqlite { write, .. } => {
            let mut w = write.lock().await.unwrap();
            sqlx::raw_sql(&script.join(";\n"))
                .execute(&mut **w)
                .await
                .unwrap();
        }
        Db::Postgres(pg) => {
            sqlx::raw_sql(&script.join(";\n"))
                .execute(&pg.write)
                .await
                .unwrap();
        }
    }
    assert_eq!(
        motcua_store::migrate::run(&t.db).await.unwrap().first(),
        Some(&13)
    );
    let steps: Vec<StepEnd> = match &t.db {
        Db::Sqlite { read, .. } => sqlx::query_as(
            "SELECT dossier_id, seq, completed_at, completed_by, note FROM dossier_steps ORDER BY dossier_id, seq",
        )
        .fetch_all(&mut *read.acquire().await.unwrap())
        .await
        .unwrap(),
        Db::Postgres(pg) => sqlx::query_as(
            "SELECT dossier_id, seq, completed_at, completed_by, note FROM dossier_steps ORDER BY dossier_id, seq",
        )
        .fetch_all(&mut *pg.read.acquire().await.unwrap())
        .await
        .unwrap(),
    };
    let finished = Some(base() + Duration::minutes(60));
    let row = |d: i64, s: i64| steps.iter().find(|r| r.0 == d && r.1 == s).unwrap().clone();
    assert_eq!(
        row(1, 1),
        (1, 1, finished, Some("Lê Văn Cường".into()), "Công dân rút".into())
    );
    assert_eq!(row(1, 2).2, None, "a step never started stays so");
    assert_eq!(
        row(2, 1),
        (2, 1, finished, Some("Phạm Duy".into()), "Dừng".into())
    );
    assert_eq!(
        row(3, 1),
        (3, 1, finished, None, String::new()),
        "no event: nobody named"
    );
    assert_eq!(row(4, 1).2, None, "a dossier in process keeps its open step");
    assert_eq!(
        row(5, 1),
        (5, 1, Some(base() + Duration::minutes(90)), None, "cũ".into()),
        "without a finishing instant, its last change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_dossiers_leave_no_open_step_sqlite() {
    finished_dossiers_leave_no_open_step(TestDb::sqlite_until(12).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_dossiers_leave_no_open_step_postgres() {
    if let Some(t) = TestDb::postgres_until(12).await {
        finished_dossiers_leave_no_open_step(t).await;
    }
}
