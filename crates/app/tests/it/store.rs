//! Store conformance: every test runs on SQLite and on PostgreSQL.

use crate::support::on_both_backends;
use chrono::{NaiveDate, Utc};
use motcua_domain::access::Role;
use motcua_domain::calendar::{Override, OverrideKind};
use motcua_domain::dossier::{Channel, Status};
use motcua_store::repo::{agencies, auth, calendar, catalog, codes, dossiers, meta, outbox, users};
use motcua_store::{Db, StoreError, migrate};
use std::collections::HashSet;

async fn seed_agency(db: &Db, code: &str, parent: Option<&str>) {
    let mut tx = db.begin().await.unwrap();
    agencies::upsert(
        &mut tx,
        &agencies::NewAgency {
            code,
            name: "Sở Tư pháp",
            level: "province",
            parent_code: parent,
            address: "",
            is_one_stop: false,
            office_hours: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Inserts a `meta` row with `write_later!`: sent with the next statement or the commit.
async fn put_later(
    tx: &mut motcua_store::Tx,
    key: &str,
    value: &str,
) -> Result<(), motcua_store::StoreError> {
    use sqlx::Arguments;
    motcua_store::write_later!(tx, "meta", "INSERT INTO meta (key, value) VALUES ($1, $2)", a => {
        a.add(key.to_string())?;
        a.add(value.to_string())?;
    });
    Ok(())
}

/// Procedure 1.001193 at agency 000.00.06.H56 (seeded first).
async fn seed_procedure(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    catalog::upsert_field(&mut tx, "HT", "Hộ tịch").await.unwrap();
    let spec: motcua_domain::procedure::ProcedureSpec = serde_json::from_value(serde_json::json!({
        "code": "1.001193", "name": "Đăng ký khai sinh", "field": {"code": "HT", "name": "Hộ tịch"},
        "levels": ["commune"], "agencies": ["000.00.06.H56"], "methods": ["direct"], "applicants": "",
        "components": [{"name": "Tờ khai", "originals": 1, "copies": 0, "required": true, "form": null}],
        "time_limit": "1 working-days", "online_time_limit": null, "same_day_cutoff": null, "fees": [],
        "result": "", "conditions": "", "legal_basis": [], "online_level": "none", "four_on_the_spot": false,
        "cases": [{"code": "a", "name": "A", "time_limit": null, "online_time_limit": null,
          "steps": [{"name": "Thụ lý", "role": "specialist", "agency": "receiving", "quota_days": 1}]}],
        "effective_from": null
    }))
    .unwrap();
    catalog::save_procedure(
        &mut tx,
        &spec,
        "test",
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// A dossier of procedure 1.001193 without a code.
fn plain_dossier(status: Status) -> dossiers::BareDossier<'static> {
    let received = Utc::now();
    dossiers::BareDossier {
        code: None,
        agency_code: "000.00.06.H56",
        procedure_code: "1.001193",
        channel: Channel::Direct,
        status,
        applicant_name: "Nguyễn Văn An",
        submitted_at: None,
        received_at: Some(received),
        due_at: Some(received),
        finished_at: None,
    }
}

on_both_backends! {
    async fn a_read_is_answered_while_every_write_connection_is_in_a_transaction(t) {
        // A request may read while it holds a write transaction (a procedure version not
        // cached yet). With every write connection taken by such transactions, reads must
        // still be answered, not wait for a connection until the pool gives up (5 s).
        let writers = t.db.pool_stats().iter().find(|(name, _)| *name == "write").map(|(_, s)| s.max).unwrap();
        let mut held = Vec::new();
        for _ in 0..writers {
            held.push(t.db.begin().await.unwrap());
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(3), meta::get(&t.db, "nothing")).await;
        assert!(matches!(read, Ok(Ok(None))), "with {writers} write transactions open, a read got {read:?}");
        drop(held);
    }

    async fn reads_reuse_their_connection_and_replace_a_broken_one(t) {
        let reads = |db: &Db| db.pool_stats().into_iter().find(|(name, _)| *name == "read").map(|(_, s)| s).unwrap();
        for _ in 0..3 {
            assert_eq!(meta::get(&t.db, "nothing").await.unwrap(), None);
        }
        assert_eq!((reads(&t.db).size, reads(&t.db).idle), (1, 1), "one connection, taken back after each read");
        if t.db.backend() == motcua_store::Backend::Postgres {
            // The server ends the idle read session (a restart, an administrator): the read
            // on it fails, the connection is not taken back, and the next read opens another.
            crate::support::exec(
                &t.db,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'",
            )
            .await;
            let first = meta::get(&t.db, "nothing").await;
            assert!(first.is_err(), "the ended session answered: {first:?}");
            assert_eq!(reads(&t.db).size, 0, "the broken connection is closed");
            assert_eq!(meta::get(&t.db, "nothing").await.unwrap(), None);
            assert_eq!((reads(&t.db).size, reads(&t.db).idle), (1, 1));
        }
    }

    async fn migrations_are_idempotent(t) {
        let again = migrate::run(&t.db).await.unwrap();
        assert!(again.is_empty(), "second run applied {again:?}");
        let version = migrate::current_version(&t.db).await.unwrap();
        assert_eq!(version, migrate::for_backend(&t.db).last().unwrap().version);
    }

    async fn agencies_upsert_by_code_and_keep_the_tree(t) {
        seed_agency(&t.db, "000.00.00.H56", None).await;
        seed_agency(&t.db, "000.00.06.H56", Some("000.00.00.H56")).await;
        seed_agency(&t.db, "000.00.06.H56", Some("000.00.00.H56")).await;
        let all = agencies::list(&t.db).await.unwrap();
        assert_eq!(all.len(), 2);
        let child = agencies::by_code(&t.db, "000.00.06.H56").await.unwrap().unwrap();
        assert_eq!(child.parent_code.as_deref(), Some("000.00.00.H56"));
        assert_eq!(child.name, "Sở Tư pháp");
        assert!(agencies::by_code(&t.db, "nope").await.unwrap().is_none());
    }

    async fn a_failed_transaction_leaves_nothing_behind(t) {
        let mut tx = t.db.begin().await.unwrap();
        meta::set(&mut tx, "k", "v").await.unwrap();
        let err = agencies::upsert(
            &mut tx,
            &agencies::NewAgency { code: "000.00.07.H56", name: "x", level: "province", parent_code: Some("missing"), address: "", is_one_stop: false, office_hours: None },
        )
        .await;
        assert!(err.is_err());
        drop(tx); // rolled back
        assert_eq!(meta::get(&t.db, "k").await.unwrap(), None);
        // The next transaction starts clean: the dropped one's write is not committed with it.
        let mut tx = t.db.begin().await.unwrap();
        meta::set(&mut tx, "k2", "v2").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(meta::get(&t.db, "k").await.unwrap(), None);
        assert_eq!(meta::get(&t.db, "k2").await.unwrap().as_deref(), Some("v2"));
    }

    async fn writes_left_for_later_are_read_back_in_order_and_land_or_fail_together(t) {
        async fn count(tx: &mut motcua_store::Tx) -> Result<i64, motcua_store::StoreError> {
            Ok(motcua_store::on_tx!(tx, c => {
                sqlx::query_scalar("SELECT COUNT(*) FROM meta WHERE key LIKE 'later%'").fetch_one(c).await?
            }))
        }
        let mut tx = t.db.begin().await.unwrap();
        put_later(&mut tx, "later-1", "một").await.unwrap();
        put_later(&mut tx, "later-2", "hai").await.unwrap();
        assert_eq!(count(&mut tx).await.unwrap(), 2, "a later read sees the writes before it");
        put_later(&mut tx, "later-3", "ba").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(meta::get(&t.db, "later-3").await.unwrap().as_deref(), Some("ba"));

        // A failing statement fails the transaction, whenever it is sent: nothing of it lands.
        let mut tx = t.db.begin().await.unwrap();
        put_later(&mut tx, "later-4", "bốn").await.unwrap();
        let failed = match put_later(&mut tx, "later-1", "again").await {
            Err(_) => {
                drop(tx); // rolled back
                true
            }
            Ok(()) => tx.commit().await.is_err(),
        };
        assert!(failed, "a duplicate key is refused");
        assert_eq!(meta::get(&t.db, "later-4").await.unwrap(), None);
        assert_eq!(meta::get(&t.db, "later-1").await.unwrap().as_deref(), Some("một"));
        // After a commit that failed, the next transaction neither fails nor carries its writes.
        let mut tx = t.db.begin().await.unwrap();
        put_later(&mut tx, "later-5", "năm").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(meta::get(&t.db, "later-5").await.unwrap().as_deref(), Some("năm"));
        assert_eq!(meta::get(&t.db, "later-4").await.unwrap(), None);
    }

    async fn grouped_transactions_land_or_fail_each_on_its_own(t) {
        // 12 tasks × 10 grouped transactions at once; every third writes a key that exists
        // (refused at its commit). Each commit's answer matches what landed, whatever group it
        // shared with others.
        let mut tx = t.db.begin().await.unwrap();
        meta::set(&mut tx, "taken", "x").await.unwrap();
        tx.commit().await.unwrap();
        let mut handles = Vec::new();
        for task in 0..12 {
            let db = t.db.clone();
            handles.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..10 {
                    let key = if (task * 10 + i) % 3 == 0 { "taken".to_string() } else { format!("g-{task}-{i}") };
                    let mut tx = db.begin_grouped().await.unwrap();
                    put_later(&mut tx, &key, &format!("v-{task}-{i}")).await.unwrap();
                    let ok = tx.commit().await.is_ok();
                    outcomes.push((key, format!("v-{task}-{i}"), ok));
                }
                outcomes
            }));
        }
        let mut landed = 0;
        for h in handles {
            for (key, value, ok) in h.await.unwrap() {
                let stored = meta::get(&t.db, &key).await.unwrap();
                if key == "taken" {
                    assert!(!ok, "a duplicate key is refused");
                    assert_eq!(stored.as_deref(), Some("x"));
                } else {
                    assert!(ok, "{key} was refused");
                    assert_eq!(stored.as_deref(), Some(value.as_str()), "{key} committed but not stored");
                    landed += 1;
                }
            }
        }
        assert_eq!(landed, 80);
        if let Some((groups, members)) = t.db.group_stats() {
            assert!(members >= 120, "every transaction joined a group: {members}");
            assert!(groups < members, "transactions at once shared groups: {groups} for {members}");
        }
    }

    async fn a_group_member_rolled_back_leaves_the_others_in(t) {
        // A finishes while B waits for the writer, so A's commit waits for the group; B joins
        // the same transaction, writes, and is dropped: B's write goes, A's lands.
        let mut a = t.db.begin_grouped().await.unwrap();
        meta::set(&mut a, "member-a", "a").await.unwrap();
        let db = t.db.clone();
        let (joined, wait_joined) = tokio::sync::oneshot::channel();
        let (release, wait_release) = tokio::sync::oneshot::channel::<()>();
        let b = tokio::spawn(async move {
            let mut b = db.begin_grouped().await.unwrap();
            meta::set(&mut b, "member-b", "b").await.unwrap();
            joined.send(()).unwrap();
            wait_release.await.unwrap();
            drop(b); // rolled back
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await; // B is waiting
        let commit_a = tokio::spawn(async move { a.commit().await });
        wait_joined.await.unwrap();
        release.send(()).unwrap();
        b.await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), commit_a)
            .await
            .expect("A's commit ends")
            .unwrap()
            .unwrap();
        assert_eq!(meta::get(&t.db, "member-a").await.unwrap().as_deref(), Some("a"));
        assert_eq!(meta::get(&t.db, "member-b").await.unwrap(), None);
        // The writer goes on.
        let mut c = t.db.begin_grouped().await.unwrap();
        meta::set(&mut c, "member-c", "c").await.unwrap();
        c.commit().await.unwrap();
        assert_eq!(meta::get(&t.db, "member-c").await.unwrap().as_deref(), Some("c"));
    }

    async fn a_member_dropped_while_committing_does_not_fail_the_others(t) {
        // A finishes while B waits, so A waits for the group; B joins, writes, and its
        // request goes away at some point of its commit (its RELEASE may have run). A must
        // still be told its transaction committed, and the writer must go on. (Under load
        // this failed: B's rollback found no savepoint and failed the whole group.) Each
        // round gives up a little later, to fall at different points of B's commit.
        for round in 0..30u64 {
            let (key_a, key_b) = (format!("round-a-{round}"), format!("round-b-{round}"));
            let mut a = t.db.begin_grouped().await.unwrap();
            meta::set(&mut a, &key_a, "a").await.unwrap();
            let db = t.db.clone();
            let (joined, wait_joined) = tokio::sync::oneshot::channel();
            let b = tokio::spawn(async move {
                let mut b = db.begin_grouped().await.unwrap();
                put_later(&mut b, &key_b, "b").await.unwrap();
                joined.send(()).unwrap();
                let patience = std::time::Duration::from_micros(100 * round);
                let _ = tokio::time::timeout(patience, b.commit()).await;
            });
            tokio::time::sleep(std::time::Duration::from_millis(20)).await; // B is waiting
            let commit_a = tokio::spawn(async move { a.commit().await });
            wait_joined.await.unwrap();
            b.await.unwrap();
            tokio::time::timeout(std::time::Duration::from_secs(10), commit_a)
                .await
                .expect("A's commit ends")
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: A's transaction failed: {e}"));
            assert_eq!(meta::get(&t.db, &key_a).await.unwrap().as_deref(), Some("a"));
        }
        let mut c = t.db.begin_grouped().await.unwrap();
        meta::set(&mut c, "after-rounds", "c").await.unwrap();
        c.commit().await.unwrap();
        assert_eq!(meta::get(&t.db, "after-rounds").await.unwrap().as_deref(), Some("c"));
    }

    async fn a_group_whose_last_member_gave_up_is_still_committed(t) {
        // A finishes while B waits for the writer; B's request is then dropped before it
        // begins: A's commit still ends, with A's write stored.
        let mut a = t.db.begin_grouped().await.unwrap();
        meta::set(&mut a, "alone-a", "a").await.unwrap();
        let db = t.db.clone();
        let b = tokio::spawn(async move {
            let _b = db.begin_grouped().await;
            std::future::pending::<()>().await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await; // B is waiting
        let commit_a = tokio::spawn(async move { a.commit().await });
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        b.abort();
        tokio::time::timeout(std::time::Duration::from_secs(10), commit_a)
            .await
            .expect("A's commit ends")
            .unwrap()
            .unwrap();
        assert_eq!(meta::get(&t.db, "alone-a").await.unwrap().as_deref(), Some("a"));
    }

    async fn a_value_that_cannot_be_encoded_fails_the_transaction(t) {
        use sqlx::Arguments;
        async fn put(tx: &mut motcua_store::Tx, key: &str) -> Result<(), motcua_store::StoreError> {
            motcua_store::write_later!(tx, "meta", "INSERT INTO meta (key, value) VALUES ($1, $2)", a => {
                a.add(key.to_string())?;
                a.add(Unencodable)?;
            });
            Ok(())
        }
        let mut tx = t.db.begin().await.unwrap();
        assert!(put(&mut tx, "bad-1").await.is_err());
        assert!(tx.commit().await.is_err(), "values and statements no longer match: no commit");
        assert_eq!(meta::get(&t.db, "bad-1").await.unwrap(), None);
    }

    async fn foreign_keys_are_enforced(t) {
        let mut tx = t.db.begin().await.unwrap();
        let res = match &mut tx {
            motcua_store::Tx::Sqlite(c) => sqlx::query("INSERT INTO user_roles (user_id, agency_id, role) VALUES (999, 999, 'admin')").execute(&mut **c).await.map(|_| ()),
            motcua_store::Tx::Postgres(c) => sqlx::query("INSERT INTO user_roles (user_id, agency_id, role) VALUES (999, 999, 'admin')").execute(&mut **c).await.map(|_| ()),
        };
        assert!(res.is_err(), "dangling foreign key accepted");
    }

    async fn dossier_codes_follow_the_daily_sequence(t) {
        seed_agency(&t.db, "000.00.06.H56", None).await;
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut tx = t.db.begin().await.unwrap();
        let a = codes::next_code(&mut tx, "000.00.06.H56", day).await.unwrap();
        let b = codes::next_code(&mut tx, "000.00.06.H56", day).await.unwrap();
        let c = codes::next_code(&mut tx, "000.00.06.H56", day.succ_opt().unwrap()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(a.to_string(), "000.00.06.H56-261127-0001");
        assert_eq!(b.to_string(), "000.00.06.H56-261127-0002");
        assert_eq!(c.to_string(), "000.00.06.H56-261128-0001");
        // An intake reserves its id and code in one call: the code goes on in the same
        // sequence; an unknown agency is refused and takes nothing.
        let mut tx = t.db.begin().await.unwrap();
        let (id, code) = codes::reserve(&mut tx, Some(("000.00.06.H56", day))).await.unwrap();
        assert_eq!(code.unwrap().to_string(), "000.00.06.H56-261127-0003");
        assert!(id >= 1);
        let (online_id, none) = codes::reserve(&mut tx, None).await.unwrap();
        assert!(none.is_none() && online_id >= 1);
        let unknown = codes::reserve(&mut tx, Some(("000.00.99.H56", day))).await;
        assert!(matches!(unknown, Err(motcua_store::StoreError::NotFound)), "{unknown:?}");
    }

    async fn concurrent_code_issuing_never_duplicates(t) {
        seed_agency(&t.db, "000.00.06.H56", None).await;
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut handles = Vec::new();
        for task in 0..8 {
            let db = t.db.clone();
            handles.push(tokio::spawn(async move {
                let mut codes = Vec::new();
                for i in 0..10 {
                    // Grouped and plain transactions mixed (group commit on SQLite).
                    let mut tx = if (task + i) % 2 == 0 { db.begin_grouped().await } else { db.begin().await }.unwrap();
                    let code = codes::next_code(&mut tx, "000.00.06.H56", day).await.unwrap();
                    tx.commit().await.unwrap();
                    codes.push(code.to_string());
                }
                codes
            }));
        }
        let mut all = HashSet::new();
        for h in handles {
            for c in h.await.unwrap() {
                assert!(all.insert(c.clone()), "duplicate code {c}");
            }
        }
        assert_eq!(all.len(), 80);
        assert!(all.contains("000.00.06.H56-261127-0080"));
    }

    async fn dossiers_store_instants_in_utc_and_count_by_status(t) {
        seed_agency(&t.db, "000.00.06.H56", None).await;
        seed_procedure(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        for status in [Status::Received, Status::Processing, Status::Processing] {
            dossiers::insert_bare(&mut tx, &plain_dossier(status)).await.unwrap();
        }
        tx.commit().await.unwrap();
        let counts = dossiers::count_by_status(&t.db).await.unwrap();
        assert_eq!(counts, vec![(Status::Received, 1), (Status::Processing, 2)]);
        assert_eq!(catalog::count_procedures(&t.db).await.unwrap(), 1);
    }

    async fn a_transaction_dropped_while_it_begins_leaves_no_connection_inside_it(t) {
        // A request dropped (its client gave up) while its BEGIN is on the wire: the
        // connection must not go back to the pool inside that transaction. The next
        // transaction given it would not begin one of its own (a single-statement write of
        // `begin_grouped` sends no BEGIN on PostgreSQL): its write would stay uncommitted,
        // holding its row locks until the connection was used again.
        async fn poll_once<F: std::future::Future>(f: F) {
            let mut f = std::pin::pin!(f);
            std::future::poll_fn(|cx| {
                let _ = f.as_mut().poll(cx);
                std::task::Poll::Ready(())
            })
            .await;
        }
        for round in 0..4 {
            // Warm: idle connections in the pool, so the next acquire needs no round trip
            // and the first poll sends the BEGIN.
            let mut warm = t.db.begin().await.unwrap();
            put_later(&mut warm, &format!("warm-{round}"), "x").await.unwrap();
            warm.commit().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            poll_once(t.db.begin()).await;
            let mut grouped = t.db.begin_grouped().await.unwrap();
            poll_once(grouped.flush()).await;
            drop(grouped);
        }
        if let motcua_store::Backend::Postgres = t.db.backend() {
            let watcher = sqlx::PgPool::connect(&t.url).await.unwrap();
            let mut inside = -1i64;
            for _ in 0..200 {
                inside = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
                )
                .fetch_one(&watcher)
                .await
                .unwrap();
                if inside == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            assert_eq!(inside, 0, "connections left inside a transaction nobody will end");
            watcher.close().await;
        }
        for i in 0..12 {
            let key = format!("after-{i}");
            let mut tx = t.db.begin_grouped().await.unwrap();
            put_later(&mut tx, &key, "y").await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(meta::get(&t.db, &key).await.unwrap().as_deref(), Some("y"), "{key} committed");
        }
    }

    async fn a_list_pages_through_open_dossiers_first_then_the_rest_in_one_order(t) {
        // A page that holds only open dossiers is read from them alone; one that reaches past
        // them sorts everything. Paged at any size, the pages join into the one full order:
        // open first, then by due date, then newest first.
        use motcua_store::repo::dossier_list::{self, ListFilter};
        seed_agency(&t.db, "000.00.06.H56", None).await;
        seed_procedure(&t.db).await;
        let statuses = [
            Status::Received, Status::Returned, Status::Processing, Status::Refused, Status::AwaitingSupplement,
            Status::Withdrawn, Status::Returned, Status::Received, Status::Resolved, Status::Submitted,
            Status::Processing, Status::Stopped, Status::Returned, Status::AwaitingPayment, Status::Returned,
            Status::Received, Status::Refused, Status::Processing, Status::Returned, Status::Withdrawn,
        ];
        let open = |s: &Status| {
            matches!(s, Status::Submitted | Status::Received | Status::Processing | Status::AwaitingSupplement | Status::AwaitingPayment)
        };
        let base = Utc::now();
        let mut tx = t.db.begin().await.unwrap();
        for (i, status) in statuses.iter().enumerate() {
            let mut d = plain_dossier(*status);
            d.due_at = Some(base + chrono::Duration::hours(((i * 7) % 5) as i64));
            dossiers::insert_bare(&mut tx, &d).await.unwrap();
        }
        tx.commit().await.unwrap();
        let agency = agencies::list(&t.db).await.unwrap().into_iter().find(|a| a.code == "000.00.06.H56").unwrap().id;
        let f = ListFilter { agency_ids: vec![agency], ..Default::default() };
        let (all, total) = dossier_list::list(&t.db, &f, 1, 100).await.unwrap();
        assert_eq!((all.len(), total), (20, 20));
        let n_open = statuses.iter().filter(|s| open(s)).count();
        assert!(all[..n_open].iter().all(|d| open(&d.status)), "open first: {all:?}");
        assert!(all[n_open..].iter().all(|d| !open(&d.status)), "then the rest: {all:?}");
        for part in [&all[..n_open], &all[n_open..]] {
            for w in part.windows(2) {
                assert!(w[0].due_at <= w[1].due_at, "by due date: {w:?}");
            }
        }
        let keys = |list: &[dossier_list::Summary]| list.iter().map(|d| d.key.clone()).collect::<Vec<_>>();
        for per_page in [1, 3, 4, 7, n_open as u32, 10] {
            let mut paged = Vec::new();
            for page in 1.. {
                let (rows, total) = dossier_list::list(&t.db, &f, page, per_page).await.unwrap();
                assert_eq!(total, 20);
                if rows.is_empty() {
                    break;
                }
                paged.extend(rows);
            }
            assert_eq!(keys(&paged), keys(&all), "{per_page} per page");
        }
        let only_closed = ListFilter { status: Some(Status::Returned), ..f.clone() };
        let (returned, total) = dossier_list::list(&t.db, &only_closed, 1, 3).await.unwrap();
        assert_eq!((returned.len(), total), (3, 5));
    }

    async fn an_action_read_unlocked_retries_if_the_dossier_moved_before_its_commit(t) {
        // PostgreSQL: an action's first attempt (`begin_grouped`) reads the dossier before its
        // transaction begins, without a lock; its update is checked against the version read.
        // Another action committing in between makes the commit fail with `Retry`, writing
        // nothing; the next attempt (`begin`) reads it locked. SQLite: the group member holds
        // the write lock from the read on, so the first attempt commits.
        seed_agency(&t.db, "000.00.06.H56", None).await;
        seed_procedure(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        let id = dossiers::insert_bare(&mut tx, &plain_dossier(Status::Received)).await.unwrap();
        tx.commit().await.unwrap();
        let key = format!("online-{id}");
        let act = |mut d: motcua_domain::dossier::Dossier, status: Status| {
            let before = motcua_domain::report::Facts::of_dossier(&d);
            d.status = status;
            (d, before)
        };
        let version = || async { dossiers::find(&t.db, &key).await.unwrap().unwrap().version };
        let mut first = t.db.begin_grouped().await.unwrap();
        let (read, steps, _) = dossiers::find_for_action_tx(&mut first, &key).await.unwrap().unwrap();
        assert!(steps.is_empty());
        assert_eq!(read.version, 1);
        if t.db.backend() == motcua_store::Backend::Postgres {
            let mut other = t.db.begin().await.unwrap();
            let (d, ..) = dossiers::find_for_action_tx(&mut other, &key).await.unwrap().unwrap();
            let (d, before) = act(d, Status::Processing);
            dossiers::save_state(&mut other, before.as_ref(), &d, Utc::now()).await.unwrap();
            other.commit().await.unwrap();
            let (d, before) = act(read, Status::Withdrawn);
            dossiers::save_state(&mut first, before.as_ref(), &d, Utc::now()).await.unwrap();
            let e = first.commit().await.unwrap_err();
            assert!(e.is_retry(), "{e}");
            let now = dossiers::find(&t.db, &key).await.unwrap().unwrap();
            assert_eq!((now.status, now.version), (Status::Processing, 2), "nothing of the stale write");
            let mut again = t.db.begin().await.unwrap();
            let (d, ..) = dossiers::find_for_action_tx(&mut again, &key).await.unwrap().unwrap();
            let (d, before) = act(d, Status::Withdrawn);
            dossiers::save_state(&mut again, before.as_ref(), &d, Utc::now()).await.unwrap();
            again.commit().await.unwrap();
            assert_eq!(version().await, 3);
        } else {
            let (d, before) = act(read, Status::Withdrawn);
            dossiers::save_state(&mut first, before.as_ref(), &d, Utc::now()).await.unwrap();
            first.commit().await.unwrap();
            assert_eq!(version().await, 2);
        }
        let counts = dossiers::count_by_status(&t.db).await.unwrap();
        assert_eq!(counts, vec![(Status::Withdrawn, 1)]);
    }

    async fn reserved_ids_and_codes_survive_rollbacks_and_other_writers(t) {
        // On SQLite a group member learns ids and codes from what the writer knows, without
        // a statement (`Reserved`): a rollback, another connection's commit or a plain
        // transaction must never make it hand out a taken id or code, nor skip a code.
        seed_agency(&t.db, "000.00.06.H56", None).await;
        seed_procedure(&t.db).await;
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let grouped = |db: Db| async move {
            let mut tx = db.begin_grouped().await.unwrap();
            let (id, code) = codes::reserve(&mut tx, Some(("000.00.06.H56", day))).await.unwrap();
            (tx, id, code.unwrap().to_string())
        };
        // PostgreSQL hands out the number after the last one this process knows, and the
        // intake's own write checks it: taken meanwhile by another transaction, the commit
        // fails with `Retry`, nothing is written, and the next transaction reads the row.
        let backend = t.db.backend();
        let committed = |db: Db| async move {
            let (tx, id, c) = grouped(db.clone()).await;
            match tx.commit().await {
                Ok(()) => (id, c, false),
                Err(e) if e.is_retry() && backend == motcua_store::Backend::Postgres => {
                    let (tx, id, c) = grouped(db).await;
                    tx.commit().await.unwrap();
                    (id, c, true)
                }
                Err(e) => panic!("{e}"),
            }
        };
        let postgres = backend == motcua_store::Backend::Postgres;
        let code = |n: u32| format!("000.00.06.H56-261127-{n:04}");
        let (tx, _, c) = grouped(t.db.clone()).await;
        tx.commit().await.unwrap();
        assert_eq!(c, code(1));
        let (tx, _, c) = grouped(t.db.clone()).await;
        tx.commit().await.unwrap();
        assert_eq!(c, code(2));
        // Rolled back: the same code is issued again.
        let (tx, _, c) = grouped(t.db.clone()).await;
        assert_eq!(c, code(3));
        drop(tx);
        let (tx, _, c) = grouped(t.db.clone()).await;
        tx.commit().await.unwrap();
        assert_eq!(c, code(3));
        // Another connection (another server, the CLI) issues a code and adds a dossier: the
        // next id must be past it (ids reserved above without a dossier may be issued again).
        let other = Db::connect(&t.url).await.unwrap();
        let mut tx = other.begin().await.unwrap();
        assert_eq!(codes::next_code(&mut tx, "000.00.06.H56", day).await.unwrap().to_string(), code(4));
        let taken = dossiers::insert_bare(&mut tx, &plain_dossier(Status::Received)).await.unwrap();
        tx.commit().await.unwrap();
        other.close().await;
        let (id4, c, retried) = committed(t.db.clone()).await;
        assert_eq!(c, code(5));
        assert_eq!(retried, postgres, "PostgreSQL: the number known here (4) was taken");
        assert!(id4 > taken, "id {id4} taken by the other connection's {taken}");
        // A plain transaction on the same database, likewise.
        let mut tx = t.db.begin().await.unwrap();
        assert_eq!(codes::next_code(&mut tx, "000.00.06.H56", day).await.unwrap().to_string(), code(6));
        let taken = dossiers::insert_bare(&mut tx, &plain_dossier(Status::Received)).await.unwrap();
        tx.commit().await.unwrap();
        let (id5, c, retried) = committed(t.db.clone()).await;
        assert_eq!(c, code(7));
        assert_eq!(retried, postgres, "PostgreSQL: the number known here (6) was taken");
        assert!(id5 > taken);
        // The day's first intake, rolled back, takes its sequence row with it: the number it
        // read is not built on (PostgreSQL: the next commit finds no row to move, `Retry`).
        let next_day = day.succ_opt().unwrap();
        let mut tx = t.db.begin_grouped().await.unwrap();
        let (_, c) = codes::reserve(&mut tx, Some(("000.00.06.H56", next_day))).await.unwrap();
        assert_eq!(c.unwrap().to_string(), "000.00.06.H56-261128-0001");
        drop(tx);
        let mut tx = t.db.begin_grouped().await.unwrap();
        let (_, c) = codes::reserve(&mut tx, Some(("000.00.06.H56", next_day))).await.unwrap();
        match (tx.commit().await, postgres) {
            (Ok(()), _) => assert_eq!(c.unwrap().to_string(), "000.00.06.H56-261128-0001"),
            (Err(e), true) if e.is_retry() => {
                assert_eq!(c.unwrap().to_string(), "000.00.06.H56-261128-0002", "built on the rolled-back read");
                let mut tx = t.db.begin_grouped().await.unwrap();
                let (_, c) = codes::reserve(&mut tx, Some(("000.00.06.H56", next_day))).await.unwrap();
                tx.commit().await.unwrap();
                assert_eq!(c.unwrap().to_string(), "000.00.06.H56-261128-0001");
            }
            (Err(e), _) => panic!("{e}"),
        }
    }

    async fn demo_seed_runs_once(t) {
        assert!(motcua::demo::seed(&t.services()).await.unwrap());
        let first = dossiers::count_by_status(&t.db).await.unwrap();
        assert!(!motcua::demo::seed(&t.services()).await.unwrap());
        let second = dossiers::count_by_status(&t.db).await.unwrap();
        assert_eq!(first, second);
        let statuses: Vec<Status> = first.iter().map(|(s, _)| *s).collect();
        assert_eq!(statuses, Status::ALL.to_vec(), "every status has demo dossiers");
        let roles: HashSet<Role> = users::list_roles(&t.db).await.unwrap().into_iter().map(|u| u.role).collect();
        for role in Role::ALL {
            assert!(roles.contains(&role), "no demo officer with role {role}");
        }
    }

    async fn a_stored_code_that_does_not_parse_is_an_error_not_a_default(t) {
        seed_agency(&t.db, "000.00.06.H56", None).await;
        let agency_id = agencies::by_code(&t.db, "000.00.06.H56").await.unwrap().unwrap().id;
        let mut tx = t.db.begin().await.unwrap();
        let roles = [("000.00.06.H56", Role::Specialist)];
        let new = users::NewUser { username: "lan.tn", full_name: "Trần Ngọc Lan", password_hash: "x", roles: &roles };
        let id = users::upsert(&mut tx, &new).await.unwrap();
        tx.commit().await.unwrap();
        let p = auth::principal(&t.db, id).await.unwrap().unwrap();
        assert_eq!(p.roles, vec![(agency_id, "000.00.06.H56".to_string(), Role::Specialist)]);
        // A role this release does not know, written behind the store's back: reading the
        // user fails, naming it, instead of signing them in without it.
        crate::support::exec(&t.db, &format!("UPDATE user_roles SET role = 'chief_wizard' WHERE user_id = {id}")).await;
        let err = auth::principal(&t.db, id).await.unwrap_err();
        assert!(err.to_string().contains("chief_wizard"), "{err}");
        let err = users::list(&t.db, None).await.unwrap_err();
        assert!(err.to_string().contains("chief_wizard"), "{err}");
        assert!(users::list_roles(&t.db).await.is_err());
        // A stamp in `meta` that is not a number is corrupt, not started again from 0.
        let mut tx = t.db.begin().await.unwrap();
        meta::set(&mut tx, "outbox_trimmed_to", "lots").await.unwrap();
        meta::set(&mut tx, "calendar_version", "v7").await.unwrap();
        tx.commit().await.unwrap();
        let err = outbox::trim(&t.db, Utc::now(), 100).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(ref m) if m.contains("lots")), "{err}");
        let day = Override { date: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(), kind: OverrideKind::DayOff, name: String::new() };
        let mut tx = t.db.begin().await.unwrap();
        let err = calendar::upsert_override(&mut tx, &day, "admin").await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(ref m) if m.contains("v7")), "{err}");
        drop(tx);
        assert!(calendar::list_overrides(&t.db).await.unwrap().is_empty(), "the override was rolled back");
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    let t = crate::support::TestDb::sqlite().await;
    let Db::Sqlite { write, read, .. } = &t.db else {
        unreachable!()
    };
    let mut writer = write.lock().await.unwrap();
    let mut reader = read.acquire().await.unwrap();
    for conn in [&mut **writer, &mut *reader] {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert!(timeout >= 5000);
    }
    // The writer keeps savepoint journals (group commit) in memory.
    let temp: i64 = sqlx::query_scalar("PRAGMA temp_store")
        .fetch_one(&mut **writer)
        .await
        .unwrap();
    assert_eq!(temp, 2, "temp_store = MEMORY");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let t = crate::support::TestDb::sqlite().await;
    let mut tx = t.db.begin().await.unwrap();
    if let motcua_store::Tx::Sqlite(c) = &mut tx {
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 'x')")
            .execute(&mut **c)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let err = migrate::run(&t.db).await.unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
}

/// A value whose encoding fails (for the test of deferred writes).
struct Unencodable;

impl sqlx::Type<sqlx::Sqlite> for Unencodable {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl sqlx::Type<sqlx::Postgres> for Unencodable {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for Unencodable {
    fn encode_by_ref(
        &self,
        _: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Err("cannot be encoded".into())
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for Unencodable {
    fn encode_by_ref(
        &self,
        _: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Err("cannot be encoded".into())
    }
}

/// The partial indexes of migration 0010 serve the queries on open dossiers, which repeat
/// their WHERE term (SQLite uses a partial index only then), on both backends.
/// Asserts that both backends plan each query with the index named beside it (PostgreSQL
/// with sequential scans off, as a tiny test table would otherwise be scanned).
async fn assert_plans_use(
    sqlite: &crate::support::TestDb,
    pg: Option<&crate::support::TestDb>,
    queries: &[(String, &str)],
) {
    for (sql, index) in queries {
        let Db::Sqlite { read, .. } = &sqlite.db else {
            unreachable!()
        };
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&mut *read.acquire().await.unwrap())
            .await
            .unwrap()
            .iter()
            .map(|r| sqlx::Row::get::<String, _>(r, "detail"))
            .collect();
        assert!(
            plan.iter().any(|p| p.contains(index)),
            "SQLite does not use {index} for {sql}: {plan:?}"
        );
        if let Some(pg) = pg
            && let Db::Postgres(pools) = &pg.db
        {
            let mut c = pools.read.acquire().await.unwrap();
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *c)
                .await
                .unwrap();
            let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {sql}"))
                .fetch_all(&mut *c)
                .await
                .unwrap();
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *c)
                .await
                .unwrap();
            assert!(
                plan.iter().any(|p| p.contains(index)),
                "PostgreSQL does not use {index} for {sql}: {plan:?}"
            );
        }
    }
}

#[tokio::test]
async fn outbox_indexes_serve_the_worker_and_evaluation() {
    // The worker's query as it is sent, and evaluation's count per dossier and topic.
    let queries = [
        (
            motcua_store::repo::outbox::PENDING.replace("$1", "500"),
            "outbox_undelivered",
        ),
        (
            "SELECT COUNT(*) FROM outbox o WHERE o.dossier_id = 5 AND o.topic = 'dvcqg_sync' AND o.delivered_at IS NULL"
                .to_string(),
            "outbox_dossier",
        ),
    ];
    let sqlite = crate::support::TestDb::sqlite().await;
    let pg = crate::support::TestDb::postgres().await;
    assert_plans_use(&sqlite, pg.as_ref(), &queries).await;
}

#[tokio::test]
async fn open_dossier_indexes_serve_the_queries_on_open_dossiers() {
    use motcua_store::repo::{IN_PROCESS, OPEN};
    let queries = [
        (
            format!(
                "SELECT d.id FROM dossiers d WHERE d.status IN {IN_PROCESS} AND d.paused_at IS NULL
                 AND d.due_at IS NOT NULL AND d.due_at < '2026-11-28' ORDER BY d.due_at, d.id LIMIT 20"
            ),
            "dossiers_due",
        ),
        (
            format!(
                "SELECT agency_id FROM dossiers WHERE status IN {OPEN} AND status = 'awaiting_supplement'
                 AND paused_at IS NOT NULL"
            ),
            "dossiers_status",
        ),
        (
            "SELECT d.id FROM dossiers d WHERE d.citizen_id = 5".to_string(),
            "dossiers_citizen",
        ),
    ];
    let sqlite = crate::support::TestDb::sqlite().await;
    let pg = crate::support::TestDb::postgres().await;
    assert_plans_use(&sqlite, pg.as_ref(), &queries).await;
    // What they leave out: closed dossiers and dossiers of no citizen.
    let Db::Sqlite { read, .. } = &sqlite.db else {
        unreachable!()
    };
    let definitions: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name IN ('dossiers_due', 'dossiers_status', 'dossiers_citizen')",
    )
    .fetch_all(&mut *read.acquire().await.unwrap())
    .await
    .unwrap();
    assert_eq!(definitions.len(), 3);
    assert!(
        definitions.iter().all(|d| d.contains(" WHERE ")),
        "{definitions:?}"
    );
}

/// SQLite's WAL is copied into the database by a connection of its own, soon after a
/// commit, not by whichever writer's COMMIT crosses the automatic threshold.
#[tokio::test]
async fn the_wal_is_copied_into_the_database_in_the_background() {
    let t = crate::support::TestDb::sqlite().await;
    let path = motcua_store::db_path_of(&t.url).to_path_buf();
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    // About 500 pages: under SQLite's own automatic threshold (1,000), so only a
    // checkpoint from elsewhere moves them into the file.
    let mut tx = t.db.begin().await.unwrap();
    let motcua_store::Tx::Sqlite(s) = &mut tx else {
        unreachable!()
    };
    sqlx::query("CREATE TABLE scratch (b BLOB)")
        .execute(&mut **s)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
         INSERT INTO scratch SELECT zeroblob(4000) FROM n",
    )
    .execute(&mut **s)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < before + 1_900_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL was not checkpointed: {} bytes, {before} before",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.db.close().await;
    let wal = path.with_file_name("motcua.db-wal");
    assert_eq!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0),
        0,
        "no WAL left on close"
    );
}
