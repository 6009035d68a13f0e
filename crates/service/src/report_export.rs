//! II.06a as files: CSV (UTF-8 with a byte-order mark) and XLSX laid out like the official form.
//! Pure functions from rows to bytes, shared by the pages and `motcua report`; no I/O here.

use crate::reports::{By, KeyedRow};
use motcua_domain::report::{Column, Period, Row};

/// The heading of the row-name column on the form.
pub fn by_label_vi(by: By) -> &'static str {
    match by {
        By::Field => "Lĩnh vực",
        By::Procedure => "Thủ tục hành chính",
        By::Agency => "Cơ quan",
    }
}

/// How deep each row sits under the other rows (by agency: 0 for a row whose parent is not
/// itself a row, 1 under it, …). Rows of fields and procedures are all 0.
pub fn depths(rows: &[KeyedRow]) -> Vec<usize> {
    rows.iter()
        .map(|r| {
            let mut depth = 0;
            let mut parent = r.parent.as_deref();
            while let Some(p) = parent {
                if depth >= 16 {
                    break;
                }
                match rows.iter().find(|x| x.key == p) {
                    Some(up) => {
                        depth += 1;
                        parent = up.parent.as_deref();
                    }
                    None => break,
                }
            }
            depth
        })
        .collect()
}

/// Who a CSV is for: programs (English keys, stable) or people (Vietnamese headings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvHeader {
    /// `key,name,received,…` and a `TOTAL` line: the command line and scripts.
    Keys,
    /// `Mã,Tên,Tổng số hồ sơ tiếp nhận,…` and a `Tổng cộng` line: downloads from the pages.
    People,
}

/// A column's heading in a CSV read by people: the form's heading, with its group where the
/// form's own heading repeats ("Quá hạn" under resolved and under in process).
pub fn column_heading_vi(c: Column) -> &'static str {
    match c {
        Column::ReceivedOnline => "Tiếp nhận trực tuyến",
        Column::ReceivedDirect => "Tiếp nhận trực tiếp, dịch vụ bưu chính",
        Column::Early => "Đã giải quyết trước hạn",
        Column::OnTime => "Đã giải quyết đúng hạn",
        Column::Late => "Đã giải quyết quá hạn",
        Column::WithinTime => "Đang giải quyết trong hạn",
        Column::Overdue => "Đang giải quyết quá hạn",
        other => other.label_vi(),
    }
}

/// The report as CSV: a header, one line per row, and the total. UTF-8 with a byte-order
/// mark so that spreadsheet programs show Vietnamese.
pub fn csv(rows: &[KeyedRow], total: &Row, header: CsvHeader) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = match header {
        CsvHeader::Keys => vec!["key", "name"],
        CsvHeader::People => vec!["Mã", "Tên"],
    };
    let heading: fn(Column) -> &'static str = match header {
        CsvHeader::Keys => Column::name,
        CsvHeader::People => column_heading_vi,
    };
    head.extend(Column::ALL.map(heading));
    w.write_record(&head)?;
    for r in rows {
        let mut rec = vec![r.key.clone(), r.name.clone()];
        rec.extend(r.row.values().iter().map(i64::to_string));
        w.write_record(&rec)?;
    }
    let key = match header {
        CsvHeader::Keys => "TOTAL",
        CsvHeader::People => "",
    };
    let mut rec = vec![key.to_string(), "Tổng cộng".to_string()];
    rec.extend(total.values().iter().map(i64::to_string));
    w.write_record(&rec)?;
    let body = w.into_inner().map_err(|e| e.into_error())?;
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(body);
    Ok(out)
}

/// The report laid out like the official form: title, period, the three-level header with
/// merged cells and column numbers (1)–(13), one line per row (agencies indented under their
/// parents), and the total. The bytes of an .xlsx file.
pub fn xlsx(
    period: &Period,
    by: By,
    rows: &[KeyedRow],
    total: &Row,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format as F, FormatAlign, FormatBorder, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("II.06a")?;
    let title = F::new()
        .set_bold()
        .set_font_size(13)
        .set_align(FormatAlign::Center);
    let head = F::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let cell = F::new().set_border(FormatBorder::Thin);
    let bold = F::new().set_bold().set_border(FormatBorder::Thin);
    ws.merge_range(
        0,
        0,
        0,
        12,
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        &title,
    )?;
    let span = format!(
        "Kỳ báo cáo: từ ngày {} đến ngày {}",
        period.from.format("%d/%m/%Y"),
        period.to.format("%d/%m/%Y")
    );
    ws.merge_range(1, 0, 1, 12, &span, &F::new().set_align(FormatAlign::Center))?;
    ws.merge_range(3, 0, 5, 0, "STT", &head)?;
    ws.merge_range(3, 1, 5, 1, by_label_vi(by), &head)?;
    ws.merge_range(3, 2, 3, 5, "Số hồ sơ nhận giải quyết", &head)?;
    ws.merge_range(4, 2, 5, 2, "Tổng số", &head)?;
    ws.merge_range(4, 3, 4, 4, "Trong kỳ", &head)?;
    ws.write_with_format(5, 3, "Trực tuyến", &head)?;
    ws.write_with_format(5, 4, "Trực tiếp, dịch vụ bưu chính", &head)?;
    ws.merge_range(4, 5, 5, 5, "Từ kỳ trước chuyển qua", &head)?;
    ws.merge_range(3, 6, 3, 9, "Số hồ sơ đã giải quyết", &head)?;
    ws.merge_range(4, 6, 5, 6, "Tổng số", &head)?;
    ws.merge_range(4, 7, 5, 7, "Trước hạn", &head)?;
    ws.merge_range(4, 8, 5, 8, "Đúng hạn", &head)?;
    ws.merge_range(4, 9, 5, 9, "Quá hạn", &head)?;
    ws.merge_range(3, 10, 3, 12, "Số hồ sơ đang giải quyết", &head)?;
    ws.merge_range(4, 10, 5, 10, "Tổng số", &head)?;
    ws.merge_range(4, 11, 5, 11, "Trong hạn", &head)?;
    ws.merge_range(4, 12, 5, 12, "Quá hạn", &head)?;
    for c in 0..13u16 {
        ws.write_with_format(6, c, format!("({})", c + 1), &head)?;
    }
    let line = |ws: &mut rust_xlsxwriter::Worksheet,
                r: u32,
                stt: &str,
                name: &str,
                row: &Row,
                f: &F,
                name_format: &F|
     -> Result<(), rust_xlsxwriter::XlsxError> {
        ws.write_with_format(r, 0, stt, f)?;
        ws.write_with_format(r, 1, name, name_format)?;
        for (i, v) in row.values().iter().enumerate() {
            ws.write_with_format(r, i as u16 + 2, *v as f64, f)?;
        }
        Ok(())
    };
    for ((i, r), depth) in rows.iter().enumerate().zip(depths(rows)) {
        let name_format = cell.clone().set_indent(depth.min(15) as u8);
        line(
            ws,
            7 + i as u32,
            &(i + 1).to_string(),
            &r.name,
            &r.row,
            &cell,
            &name_format,
        )?;
    }
    line(ws, 7 + rows.len() as u32, "", "Tổng cộng", total, &bold, &bold)?;
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 45)?;
    for c in 2..13u16 {
        ws.set_column_width(c, 12)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, parent: Option<&str>, received: i64) -> KeyedRow {
        KeyedRow {
            key: key.into(),
            name: format!("Cơ quan {key}"),
            parent: parent.map(str::to_string),
            row: Row {
                received,
                received_direct: received,
                in_process: received,
                within_time: received,
                ..Row::default()
            },
        }
    }

    #[test]
    fn agencies_sit_under_their_parents() {
        let rows = [
            row("A", None, 3),
            row("A.1", Some("A"), 2),
            row("A.1.x", Some("A.1"), 1),
            row("B", Some("not-a-row"), 1),
        ];
        assert_eq!(depths(&rows), vec![0, 1, 2, 0]);
    }

    #[test]
    fn csv_has_a_bom_a_header_and_the_total() {
        let rows = [row("HT", None, 2)];
        let total = rows[0].row;
        let text = String::from_utf8(csv(&rows, &total, CsvHeader::Keys).unwrap()).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines[0],
            "key,name,received,received_online,received_direct,carried_over,resolved,early,on_time,late,in_process,within_time,overdue"
        );
        assert_eq!(lines[1], "HT,Cơ quan HT,2,0,2,0,0,0,0,0,2,2,0");
        assert_eq!(lines[2], "TOTAL,Tổng cộng,2,0,2,0,0,0,0,0,2,2,0");
    }

    #[test]
    fn csv_for_people_has_vietnamese_headings() {
        let rows = [row("HT", None, 2)];
        let text = String::from_utf8(csv(&rows, &rows[0].row, CsvHeader::People).unwrap()).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(
            lines[0],
            "Mã,Tên,Tổng số hồ sơ tiếp nhận,Tiếp nhận trực tuyến,\"Tiếp nhận trực tiếp, dịch vụ bưu chính\",\
             Kỳ trước chuyển qua,Tổng số hồ sơ đã giải quyết,Đã giải quyết trước hạn,Đã giải quyết đúng hạn,\
             Đã giải quyết quá hạn,Tổng số hồ sơ đang giải quyết,Đang giải quyết trong hạn,Đang giải quyết quá hạn"
        );
        assert_eq!(lines[2], ",Tổng cộng,2,0,2,0,0,0,0,0,2,2,0");
    }

    #[test]
    fn xlsx_is_a_zip_file() {
        let p = Period::month(2026, 11).unwrap();
        let bytes = xlsx(&p, By::Agency, &[row("A", None, 1)], &Row::default()).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }
}
