//! Bulk writes on SQLite through its C API, on the calling thread (the historic import).
//! Must not begin or commit: it writes inside the caller's open transaction.
//!
//! sqlx runs each statement on the connection's own thread and copies every bound value
//! into an argument list first; for a million rows that copying and the allocations cost
//! more than SQLite's own work (perf: `malloc`/`free`/`memmove` and `SqliteArguments::bind`
//! beside `sqlite3VdbeExec`). Here one statement is prepared once, and each row is bound
//! in place (`SQLITE_STATIC`: the values outlive the step), stepped and reset.
//!
//! The connection is borrowed with sqlx's `lock_handle` (its thread waits meanwhile), in
//! the caller's open transaction; nothing here begins or commits. The statement is
//! finalized when dropped. With `setup`, this is the only `unsafe` of the workspace.

use crate::StoreError;
use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

/// One value to bind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Text(s)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Value::Null, Value::Text)
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// A prepared statement on a locked connection, run once per row.
pub(crate) struct Statement<'h> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    params: usize,
    _handle: std::marker::PhantomData<&'h mut LockedSqliteHandle<'h>>,
}

impl<'h> Statement<'h> {
    /// Prepares `sql` (one statement) on the locked connection.
    pub(crate) fn prepare(handle: &'h mut LockedSqliteHandle<'_>, sql: &str) -> Result<Self, StoreError> {
        let db = handle.as_raw_handle();
        let len =
            c_int::try_from(sql.len()).map_err(|_| StoreError::Conflict("statement too long".into()))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is an open connection we hold exclusively (the handle is locked for
        // 'h); `sql` is valid for `len` bytes; `stmt` receives the statement or null.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        let stmt = NonNull::new(stmt).ok_or_else(|| StoreError::Conflict("empty statement".into()))?;
        // SAFETY: `stmt` is a prepared statement of `db`.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) } as usize;
        Ok(Statement {
            db,
            stmt,
            params,
            _handle: std::marker::PhantomData,
        })
    }

    /// Binds `values` (as many as the statement's parameters), runs the statement to its end
    /// and resets it; returns the rows it changed.
    pub(crate) fn run(&mut self, values: &[Value<'_>]) -> Result<u64, StoreError> {
        if values.len() != self.params {
            return Err(StoreError::Conflict(format!(
                "{} values for {} parameters",
                values.len(),
                self.params
            )));
        }
        let stmt = self.stmt.as_ptr();
        for (i, v) in values.iter().enumerate() {
            let at = i as c_int + 1;
            // SAFETY: `stmt` is ours and reset; a text is bound without a copy
            // (SQLITE_STATIC), which is sound because every parameter is bound again before
            // each step (the count is checked above): a stale pointer is never read.
            let rc = unsafe {
                match *v {
                    Value::Null => ffi::sqlite3_bind_null(stmt, at),
                    Value::Int(n) => ffi::sqlite3_bind_int64(stmt, at, n),
                    Value::Text(s) => ffi::sqlite3_bind_text(
                        stmt,
                        at,
                        s.as_ptr().cast(),
                        c_int::try_from(s.len()).unwrap_or(c_int::MAX),
                        ffi::SQLITE_STATIC(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(self.finish_row(rc));
            }
        }
        // SAFETY: as above.
        let rc = unsafe { ffi::sqlite3_step(stmt) };
        if rc != ffi::SQLITE_DONE && rc != ffi::SQLITE_ROW {
            return Err(self.finish_row(rc));
        }
        // SAFETY: as above; the connection is not shared, so `changes` is this statement's.
        let changed = unsafe { ffi::sqlite3_changes64(self.db.as_ptr()) } as u64;
        self.reset();
        Ok(changed)
    }

    fn reset(&mut self) {
        // SAFETY: `stmt` is ours. Reset returns the last step's error, already reported.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
        }
    }

    /// The error of a failed bind or step (read before the reset), the statement reset.
    fn finish_row(&mut self, rc: c_int) -> StoreError {
        let e = error(self.db, rc);
        self.reset();
        e
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: `stmt` was prepared by us and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The connection's error message for result code `rc`.
fn error(db: NonNull<ffi::sqlite3>, rc: c_int) -> StoreError {
    // SAFETY: `db` is open; the message is copied before anything else runs on it.
    let (message, extended) = unsafe {
        let m = ffi::sqlite3_errmsg(db.as_ptr());
        let text = if m.is_null() {
            String::new()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        };
        (text, ffi::sqlite3_extended_errcode(db.as_ptr()))
    };
    StoreError::Sqlite {
        code: if extended != 0 { extended } else { rc },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    async fn memory() -> sqlx::SqliteConnection {
        // As `Db::connect` does, before SQLite initialises (tests run on parallel threads).
        crate::db::sqlite::setup::configure();
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL, n INTEGER, note TEXT)",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c
    }

    #[tokio::test]
    async fn rows_are_bound_in_place_and_read_back_by_sqlx() {
        let mut c = memory().await;
        {
            let mut h = c.lock_handle().await.unwrap();
            let mut insert = Statement::prepare(
                &mut h,
                "INSERT INTO t (code, n, note) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .unwrap();
            for i in 0..100i64 {
                // A fresh string each row, dropped right after: nothing may keep pointing at it.
                let code = format!("hồ sơ {i}");
                let note = (i % 2 == 0).then(|| format!("ghi chú {i}"));
                assert_eq!(
                    insert
                        .run(&[code.as_str().into(), i.into(), note.as_deref().into()])
                        .unwrap(),
                    1
                );
            }
            // A code already there changes nothing.
            assert_eq!(insert.run(&["hồ sơ 7".into(), 0.into(), Value::Null]).unwrap(), 0);
        }
        let rows: Vec<(String, i64, Option<String>)> =
            sqlx::query_as("SELECT code, n, note FROM t ORDER BY id")
                .fetch_all(&mut c)
                .await
                .unwrap();
        assert_eq!(rows.len(), 100);
        assert_eq!(rows[7], ("hồ sơ 7".to_string(), 7, None));
        assert_eq!(
            rows[42],
            ("hồ sơ 42".to_string(), 42, Some("ghi chú 42".to_string()))
        );
    }

    #[tokio::test]
    async fn errors_carry_sqlites_code_and_message_and_leave_the_statement_usable() {
        let mut c = memory().await;
        let mut h = c.lock_handle().await.unwrap();
        assert!(matches!(
            Statement::prepare(&mut h, "INSERT INTO nowhere VALUES (?)"),
            Err(StoreError::Sqlite { code: 1, ref message }) if message.contains("nowhere")
        ));
        let mut insert = Statement::prepare(&mut h, "INSERT INTO t (code, n) VALUES (?, ?)").unwrap();
        insert.run(&["a".into(), 1.into()]).unwrap();
        let repeated = insert.run(&["a".into(), 2.into()]).unwrap_err();
        assert!(repeated.is_unique_violation(), "{repeated}");
        assert!(repeated.to_string().contains("UNIQUE"), "{repeated}");
        let missing = insert.run(&[Value::Null, 2.into()]).unwrap_err();
        assert!(
            matches!(missing, StoreError::Sqlite { code: 1299, .. }),
            "{missing}"
        ); // NOT NULL
        assert!(!missing.is_unique_violation());
        assert!(matches!(insert.run(&["b".into()]), Err(StoreError::Conflict(_))));
        // After the errors the statement still works.
        assert_eq!(insert.run(&["b".into(), 3.into()]).unwrap(), 1);
    }
}
