//! Bulk rows for PostgreSQL's `COPY … FROM STDIN (FORMAT binary)` into an emptied table.
//! Must not begin or commit: it streams inside the caller's open transaction.
//!
//! For the bulk import's rows (`repo::legacy`, `repo::report::add_rows_to_empty`). Binary
//! values cost PostgreSQL no parsing (text timestamps did: `COPY` in text was slower than
//! `INSERT … SELECT FROM UNNEST`), and the rows stream in pieces, so PostgreSQL stores the
//! first while the rest are encoded (docs/PERFORMANCE.md).

use chrono::{DateTime, NaiveDate, Utc};

/// Bytes sent per `CopyData` message: PostgreSQL starts on them while the next are encoded.
const PIECE: usize = 256 * 1024;

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 0001-01-01 (chrono's common era day 1) to 2000-01-01.
const PG_EPOCH_DAYS_FROM_CE: i32 = 730_120;

/// One `COPY … FROM STDIN (FORMAT binary)` in progress: rows are encoded into a buffer that
/// is sent whenever it holds a piece; [`Copy::finish`] sends the rest and the trailer.
pub(crate) struct Copy<'c> {
    copy: sqlx::postgres::PgCopyIn<&'c mut sqlx::PgConnection>,
    buf: Vec<u8>,
}

impl<'c> Copy<'c> {
    /// Starts `statement` (a `COPY … FROM STDIN (FORMAT binary)`) on `conn`.
    pub(crate) async fn begin(
        conn: &'c mut sqlx::PgConnection,
        statement: &str,
    ) -> Result<Copy<'c>, sqlx::Error> {
        let copy = conn.copy_in_raw(statement).await?;
        let mut buf = Vec::with_capacity(PIECE + 4096);
        // Signature, flags (no OIDs), no header extension.
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        Ok(Copy { copy, buf })
    }

    /// The encoder for the next row, of `columns` fields, which must all be given in order.
    pub(crate) fn row(&mut self, columns: i16) -> Row<'_> {
        self.buf.extend_from_slice(&columns.to_be_bytes());
        Row { buf: &mut self.buf }
    }

    /// Sends what is encoded if it makes a piece (call between rows).
    pub(crate) async fn flush_piece(&mut self) -> Result<(), sqlx::Error> {
        if self.buf.len() >= PIECE {
            self.copy.send(self.buf.as_slice()).await?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Sends the rest and ends the `COPY`: the rows written, or PostgreSQL's error for any
    /// of them.
    pub(crate) async fn finish(mut self) -> Result<u64, sqlx::Error> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.copy.send(self.buf.as_slice()).await?;
        self.copy.finish().await
    }
}

/// The fields of one row, in the `COPY` statement's column order.
pub(crate) struct Row<'b> {
    buf: &'b mut Vec<u8>,
}

impl Row<'_> {
    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    /// `text` (UTF-8, as the connection's client encoding is).
    pub(crate) fn text(&mut self, v: &str) -> &mut Self {
        self.field(v.as_bytes())
    }

    pub(crate) fn int8(&mut self, v: i64) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub(crate) fn int2(&mut self, v: i16) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.field(&[u8::from(v)])
    }

    /// `timestamptz`: microseconds from 2000-01-01T00:00:00Z.
    pub(crate) fn timestamptz(&mut self, v: Option<DateTime<Utc>>) -> &mut Self {
        match v {
            Some(t) => self.field(&(t.timestamp_micros() - PG_EPOCH_MICROS).to_be_bytes()),
            None => self.null(),
        }
    }

    /// `date`: days from 2000-01-01.
    pub(crate) fn date(&mut self, v: NaiveDate) -> &mut Self {
        use chrono::Datelike;
        self.field(&(v.num_days_from_ce() - PG_EPOCH_DAYS_FROM_CE).to_be_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn encoded(f: impl FnOnce(&mut Row<'_>)) -> Vec<u8> {
        let mut buf = Vec::new();
        f(&mut Row { buf: &mut buf });
        buf
    }

    #[test]
    fn values_are_encoded_as_postgresql_receives_them() {
        let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            encoded(|r| {
                r.timestamptz(Some(epoch));
            }),
            [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let second_before = epoch - chrono::Duration::microseconds(1);
        assert_eq!(
            encoded(|r| {
                r.timestamptz(Some(second_before));
            }),
            [0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        let day = NaiveDate::from_ymd_opt(2000, 1, 2).unwrap();
        assert_eq!(
            encoded(|r| {
                r.date(day);
            }),
            [0, 0, 0, 4, 0, 0, 0, 1]
        );
        let before = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        assert_eq!(
            encoded(|r| {
                r.date(before);
            }),
            [0, 0, 0, 4, 255, 255, 255, 255]
        );
        assert_eq!(
            encoded(|r| {
                r.timestamptz(None);
            }),
            [255, 255, 255, 255]
        );
        assert_eq!(
            encoded(|r| {
                r.text("hồ");
            }),
            [0, 0, 0, 4, b'h', 0xe1, 0xbb, 0x93]
        );
        assert_eq!(
            encoded(|r| {
                r.int8(-2).int2(3).bool(true);
            }),
            [
                0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 254, 0, 0, 0, 2, 0, 3, 0, 0, 0, 1, 1
            ]
        );
    }
}
