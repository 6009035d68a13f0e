//! No statement holds the server (issue 25): a read past the bound is stopped with an error,
//! on both backends, while the writer goes on; a read whose caller went away stops at once.

use crate::support::{TestDb, on_both_backends};
use motcua_store::repo::meta;
use motcua_store::{Backend, Db, StoreResult};
use std::time::{Duration, Instant};

/// A read that never ends by itself, holding a snapshot of the database meanwhile (SQLite:
/// an endless recursion beside a table; PostgreSQL: a long sleep).
async fn endless_read(db: &Db) -> StoreResult<i64> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
             SELECT COUNT(*) FROM schema_migrations m, c"
        }
        Backend::Postgres => "SELECT COUNT(*) FROM schema_migrations, pg_sleep(600)",
    };
    Ok(motcua_store::on_read!(db, pool => {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await?
    }))
}

on_both_backends! {
    async fn a_read_past_the_bound_is_stopped_with_an_error_and_writes_go_on(t) {
        let bound = Duration::from_millis(1500);
        let db = Db::connect_bounded(&t.url, Some(bound)).await.unwrap();
        let started = Instant::now();
        let read = tokio::spawn({
            let db = db.clone();
            async move { endless_read(&db).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The writer is not held by the read (SQLite: WAL; PostgreSQL: MVCC).
        let write = Instant::now();
        let mut tx = db.begin().await.unwrap();
        meta::set(&mut tx, "bounds_test", "written").await.unwrap();
        tx.commit().await.unwrap();
        assert!(write.elapsed() < Duration::from_millis(1000), "a write waited {:?}", write.elapsed());
        assert!(!read.is_finished(), "the read still runs while the write commits");
        let err = read.await.unwrap().expect_err("stopped");
        let took = started.elapsed();
        assert!(err.is_timeout(), "{err}");
        // Answered as "busy, try again" (503 with Retry-After), not as a failure.
        let answer = motcua_web::error::ApiError::from(motcua_service::ServiceError::Store(err));
        let answer = axum::response::IntoResponse::into_response(answer);
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()["retry-after"], "30");
        assert!(took >= bound && took < bound + Duration::from_secs(5), "stopped after {took:?}");
        // The pools go on: reads and writes answer.
        assert_eq!(meta::get(&db, "bounds_test").await.unwrap().as_deref(), Some("written"));
        db.ping().await.unwrap();
        db.close().await;
    }
}

/// SQLite runs a statement on its connection's thread whether or not anyone waits for it: a
/// read whose caller went away is stopped by its progress handler. Seen from outside: the
/// abandoned read no longer holds its snapshot of the WAL, so a truncating checkpoint (which
/// waits for every reader of the WAL) gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_sqlite_read_stops_and_lets_go_of_the_wal() {
    use sqlx::{ConnectOptions, Connection};
    let t = TestDb::sqlite().await;
    // Unbounded: only the caller's going away stops it.
    let db = Db::connect(&t.url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    meta::set(&mut tx, "in_the_wal", "yes").await.unwrap();
    tx.commit().await.unwrap();
    let gone = tokio::time::timeout(Duration::from_millis(300), endless_read(&db)).await;
    assert!(gone.is_err(), "the read was still running when its caller left");
    let mut other = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(motcua_store::db_path_of(&t.url))
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let started = Instant::now();
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(
        busy,
        0,
        "a reader still holds the WAL after {:?}",
        started.elapsed()
    );
    other.close().await.unwrap();
    // Reads go on, on connections that were not abandoned.
    for _ in 0..10 {
        assert_eq!(
            meta::get(&db, "in_the_wal").await.unwrap().as_deref(),
            Some("yes")
        );
    }
    db.close().await;
}
