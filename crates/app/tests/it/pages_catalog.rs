//! The public catalog as a citizen uses it: search with or without diacritics, filter, page
//! through, read a procedure, download its form — and nothing else from the file store.

use crate::support::{TestApp, TestDb, on_both_backends};
use motcua::catalog_io::{FormSource, import_agencies, import_procedures};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const AGENCIES: &str = "code,name,level,parent_code,address,office_hours,one_stop
000.00.00.H56,Ủy ban nhân dân tỉnh Yên Bái,province,,\"Số 1 đường Yên Ninh, phường Yên Bái\",,no
000.00.01.H56,Trung tâm Phục vụ hành chính công tỉnh,department,000.00.00.H56,\"Số 2 đường Hòa Bình, phường Yên Bái\",,yes
000.00.10.H56,Sở Xây dựng,department,000.00.00.H56,\"Đường Nguyễn Tất Thành, phường Yên Bái\",,no
000.30.01.H56,Ủy ban nhân dân xã Trấn Yên,commune,000.00.00.H56,\"Thôn Đồng Tâm, xã Trấn Yên\",\"07:30-11:30,13:30-17:00\",yes
";

/// The form template of the building permit (a made-up .docx).
pub const PERMIT_FORM: &[u8] = b"PK\x03\x04 mau don de nghi cap giay phep xay dung";
pub const PERMIT_FORM_PATH: &str = "forms/Mẫu đơn đề nghị.docx";
const BIRTH_FORM: &[u8] = b"%PDF-1.4 to khai dang ky khai sinh";

/// Form files as an import would read them from disk.
pub struct Forms;

impl FormSource for Forms {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        match path {
            PERMIT_FORM_PATH => Ok(PERMIT_FORM.to_vec()),
            "forms/to-khai-khai-sinh.pdf" => Ok(BIRTH_FORM.to_vec()),
            other => Err(format!("no form file {other:?}")),
        }
    }
}

fn procedures() -> Value {
    let mut list = vec![
        json!({
            "code": "1.009994",
            "name": "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
            "field": {"code": "XD", "name": "Hoạt động xây dựng"},
            "levels": ["province"],
            "agencies": ["000.00.01.H56", "000.00.10.H56"],
            "methods": ["direct", "postal", "online"],
            "applicants": "Tổ chức, cá nhân là chủ đầu tư",
            "components": [
                {"name": "Đơn đề nghị cấp giấy phép xây dựng", "originals": 1, "copies": 0, "required": true,
                 "form": {"name": "Mẫu số 01", "file": PERMIT_FORM_PATH}},
                {"name": "Bản vẽ thiết kế xây dựng", "originals": 0, "copies": 2, "required": true}
            ],
            "time_limit": "20 working-days",
            "online_time_limit": "18 working-days",
            "fees": [
                {"name": "Lệ phí cấp giấy phép xây dựng", "amount_vnd": 200000, "note": ""},
                {"name": "Phí thẩm định", "amount_vnd": null, "note": "Theo Thông tư 38/2022/TT-BTC"}
            ],
            "result": "Giấy phép xây dựng",
            "conditions": "Phù hợp quy hoạch xây dựng được phê duyệt",
            "legal_basis": ["Luật Xây dựng năm 2014", "Nghị định 175/2024/NĐ-CP"],
            "online_level": "partial",
            "four_on_the_spot": false,
            "cases": [{
                "code": "cap-moi", "name": "Cấp mới", "time_limit": null, "online_time_limit": null,
                "steps": [
                    {"name": "Tiếp nhận hồ sơ", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.5},
                    {"name": "Thẩm định hồ sơ", "role": "specialist", "agency": "000.00.10.H56", "quota_days": 15},
                    {"name": "Phê duyệt", "role": "approver", "agency": "parent", "quota_days": 2},
                    {"name": "Trả kết quả", "role": "result_officer", "agency": "receiving", "quota_days": 0.5}
                ]
            }],
            "effective_from": "2025-07-01"
        }),
        json!({
            "code": "1.001193",
            "name": "Đăng ký khai sinh",
            "field": {"code": "HT", "name": "Hộ tịch"},
            "levels": ["commune"],
            "agencies": ["000.30.01.H56"],
            "methods": ["direct", "online"],
            "applicants": "Cha, mẹ hoặc người thân thích của trẻ",
            "components": [
                {"name": "Tờ khai đăng ký khai sinh", "originals": 1, "copies": 0, "required": true,
                 "form": {"name": "Tờ khai", "file": "forms/to-khai-khai-sinh.pdf"}},
                {"name": "Giấy chứng sinh", "originals": 1, "copies": 0, "required": true}
            ],
            "time_limit": "1 working-days",
            "same_day_cutoff": "15:00",
            "fees": [],
            "result": "Giấy khai sinh",
            "legal_basis": ["Luật Hộ tịch năm 2014"],
            "online_level": "full",
            "four_on_the_spot": true,
            "cases": [
                {"code": "dung-han", "name": "Khai sinh thông thường", "time_limit": null, "online_time_limit": null,
                 "steps": [{"name": "Tiếp nhận", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.5},
                           {"name": "Giải quyết, ký", "role": "approver", "agency": "receiving", "quota_days": 0.5}]},
                {"code": "yeu-to-nuoc-ngoai", "name": "Khai sinh có yếu tố nước ngoài", "time_limit": "15 days",
                 "online_time_limit": null,
                 "steps": [{"name": "Tiếp nhận", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.5},
                           {"name": "Thẩm định", "role": "specialist", "agency": "receiving", "quota_days": 3},
                           {"name": "Ký", "role": "approver", "agency": "receiving", "quota_days": 0.5}]}
            ],
            "effective_from": "2025-07-01"
        }),
        json!({
            "code": "2.000889",
            "name": "Đăng ký kết hôn",
            "field": {"code": "HT", "name": "Hộ tịch"},
            "levels": ["commune"],
            "agencies": ["000.30.01.H56"],
            "methods": ["direct"],
            "components": [{"name": "Tờ khai đăng ký kết hôn", "originals": 1, "copies": 0, "required": true}],
            "time_limit": "4 working-hours",
            "fees": [{"name": "Lệ phí", "amount_vnd": 0, "note": "Miễn lệ phí"}],
            "online_level": "none",
            "cases": [{"code": "dung-han", "name": "Đúng hạn", "time_limit": null, "online_time_limit": null,
                       "steps": [{"name": "Tiếp nhận", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.25},
                                 {"name": "Giải quyết, ký", "role": "approver", "agency": "receiving", "quota_days": 0.25}]}]
        }),
    ];
    for n in 1..=22 {
        list.push(json!({
            "code": format!("9.{n:06}"),
            "name": format!("Thủ tục thử nghiệm số {n:02}"),
            "field": {"code": "TN", "name": "Thử nghiệm"},
            "levels": ["province"],
            "agencies": ["000.00.01.H56"],
            "methods": ["direct"],
            "components": [{"name": "Đơn đề nghị", "originals": 1, "copies": 0, "required": true}],
            "time_limit": "15 days",
            "online_level": "none",
            "cases": [{"code": "dung-han", "name": "Đúng hạn", "steps": [
                {"name": "Tiếp nhận", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.5},
                {"name": "Giải quyết", "role": "specialist", "agency": "receiving", "quota_days": 1},
                {"name": "Ký", "role": "approver", "agency": "receiving", "quota_days": 0.5}]}]
        }));
    }
    Value::Array(list)
}

/// Agencies and 25 procedures: a building permit, two civil-status procedures, 22 fillers.
pub async fn seed(t: &TestDb) {
    import_agencies(&t.db, AGENCIES).await.expect("import agencies");
    let report = import_procedures(&t.db, &t.files(), &procedures().to_string(), &Forms, "test")
        .await
        .expect("import procedures");
    assert_eq!(report.created, 25);
}

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{path}"
    );
    res.text().await.unwrap()
}

/// The procedure codes listed on a list page, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<a href=\"/thu-tuc/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

fn found(html: &str) -> String {
    let start = html.find("Tìm thấy ").expect("a result count");
    html[start..].split(" thủ tục").next().unwrap().to_string()
}

/// Decodes `%XX` escapes (RFC 8187 values).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The first `/files/HEX` link of a page.
pub fn first_file_link(html: &str) -> String {
    let start = html.find("href=\"/files/").expect("a form download link") + "href=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

on_both_backends! {
    async fn search_ignores_diacritics_and_case(t) {
        seed(t).await;
        let app = TestApp::spawn(t).await;

        let html = page(&app, "/thu-tuc?q=cap+giay+phep+xay+dung").await;
        assert_eq!(listed(&html), vec!["1.009994"]);
        assert_eq!(found(&html), "Tìm thấy 1");
        assert!(html.contains("Cấp giấy phép xây dựng mới"));
        assert!(html.contains("value=\"cap giay phep xay dung\""), "the query stays in the box");

        let html = page(&app, "/thu-tuc?q=%C4%90%C4%82NG%20K%C3%9D").await; // "ĐĂNG KÝ"
        assert_eq!(listed(&html), vec!["1.001193", "2.000889"]);

        let html = page(&app, "/thu-tuc?q=dang+ky+khai+sinh").await;
        assert_eq!(listed(&html), vec!["1.001193"]);
        assert!(html.contains("1 ngày làm việc"));
        assert!(html.contains("Dịch vụ công trực tuyến toàn trình"));

        let html = page(&app, "/thu-tuc?q=zzqx+kh%C3%B4ng+c%C3%B3").await;
        assert!(listed(&html).is_empty());
        assert_eq!(found(&html), "Tìm thấy 0");
        assert!(html.contains("Không có thủ tục nào phù hợp"));

        // Time limits in Vietnamese on the list.
        let html = page(&app, "/thu-tuc?q=ket+hon").await;
        assert!(html.contains("4 giờ làm việc"));
        let html = page(&app, "/thu-tuc?q=thu+nghiem+so+07").await;
        assert!(html.contains("15 ngày"));
    }

    async fn filters_narrow_the_list_and_never_fail(t) {
        seed(t).await;
        let app = TestApp::spawn(t).await;

        let html = page(&app, "/thu-tuc").await;
        assert_eq!(found(&html), "Tìm thấy 25");
        assert!(html.contains("<option value=\"HT\" lang=\"vi\">Hộ tịch (2)</option>"), "fields with counts");
        assert!(html.contains("Cấp huyện (trước 01/7/2025)"));

        assert_eq!(listed(&page(&app, "/thu-tuc?field=XD").await), vec!["1.009994"]);
        assert_eq!(listed(&page(&app, "/thu-tuc?field=HT").await), vec!["1.001193", "2.000889"]);
        assert_eq!(listed(&page(&app, "/thu-tuc?level=commune").await), vec!["1.001193", "2.000889"]);
        assert_eq!(listed(&page(&app, "/thu-tuc?agency=000.00.10.H56").await), vec!["1.009994"]);
        assert_eq!(
            listed(&page(&app, "/thu-tuc?agency=000.30.01.H56&q=khai+sinh").await),
            vec!["1.001193"]
        );
        let html = page(&app, "/thu-tuc?field=HT&level=commune").await;
        assert!(html.contains("<option value=\"HT\" selected lang=\"vi\">"), "the chosen field stays selected");
        assert!(html.contains("<option value=\"commune\" selected>Cấp xã</option>"));

        for path in [
            "/thu-tuc?level=central",
            "/thu-tuc?field=NOPE",
            "/thu-tuc?level=village",
            "/thu-tuc?agency=no.such.agency",
        ] {
            let html = page(&app, path).await;
            assert_eq!(found(&html), "Tìm thấy 0", "{path}");
        }
        for path in ["/thu-tuc?page=abc", "/thu-tuc?page=0", "/thu-tuc?page=-1", "/thu-tuc?page=99999999999"] {
            let html = page(&app, path).await;
            assert_eq!(found(&html), "Tìm thấy 25", "{path}");
            assert_eq!(listed(&html).len(), 20, "{path}: treated as page 1");
        }
        // Odd input is a search like any other, never a server error.
        for path in [
            "/thu-tuc?q=%FF%FE",
            "/thu-tuc?q=%",
            "/thu-tuc?q=100%25_%5C",
            "/thu-tuc?q=%27%3B+DROP+TABLE+procedures%3B--",
            "/thu-tuc?q=zzz&q=b&page=1&page=2",
            "/thu-tuc?page=4294967295",
        ] {
            let html = page(&app, path).await;
            assert!(listed(&html).is_empty(), "{path}");
        }
        assert_eq!(found(&page(&app, "/thu-tuc").await), "Tìm thấy 25", "the table is still there");
    }

    async fn the_list_pages_twenty_at_a_time_keeping_the_filters(t) {
        seed(t).await;
        let app = TestApp::spawn(t).await;

        let html = page(&app, "/thu-tuc?q=thu+nghiem&field=TN").await;
        assert_eq!(found(&html), "Tìm thấy 22");
        let first = listed(&html);
        assert_eq!(first.len(), 20);
        assert_eq!(first[0], "9.000001");
        assert!(html.contains("Trang 1 / 2"));
        assert!(html.contains("href=\"/thu-tuc?q=thu%20nghiem&#38;field=TN&#38;page=2\""), "next keeps the filters");
        assert!(!html.contains("rel=\"prev\""));

        let html = page(&app, "/thu-tuc?q=thu%20nghiem&field=TN&page=2").await;
        assert_eq!(listed(&html), vec!["9.000021", "9.000022"]);
        assert!(html.contains("href=\"/thu-tuc?q=thu%20nghiem&#38;field=TN\" rel=\"prev\""));
        assert!(!html.contains("rel=\"next\""));

        let html = page(&app, "/thu-tuc?field=TN&page=3").await;
        assert!(listed(&html).is_empty(), "past the end: an empty page, not an error");
        assert!(html.contains("rel=\"prev\""));
    }

    async fn the_detail_page_has_everything_to_prepare_a_dossier(t) {
        seed(t).await;
        let app = TestApp::spawn(t).await;

        let html = page(&app, "/thu-tuc/1.009994").await;
        for expected in [
            "<title>Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
            "1.009994",
            "Hoạt động xây dựng",
            "Cấp tỉnh",
            // Where to submit, one-stop desk marked.
            "Trung tâm Phục vụ hành chính công tỉnh",
            "Số 2 đường Hòa Bình, phường Yên Bái",
            "Bộ phận một cửa",
            "Sở Xây dựng",
            "Trực tiếp",
            "Qua bưu chính công ích",
            "Trực tuyến",
            "Tổ chức, cá nhân là chủ đầu tư",
            // Components.
            "Đơn đề nghị cấp giấy phép xây dựng",
            "Bản vẽ thiết kế xây dựng",
            r#"Tải mẫu: <span lang="vi">Mẫu số 01</span>"#,
            // Limits.
            "20 ngày làm việc; nộp trực tuyến: 18 ngày làm việc",
            // Fees.
            r#"<span lang="vi">Lệ phí cấp giấy phép xây dựng</span>: 200.000 đồng"#,
            r#"<span lang="vi">Phí thẩm định</span>: <span lang="vi">Theo Thông tư 38/2022/TT-BTC</span>"#,
            "Giấy phép xây dựng",
            "Phù hợp quy hoạch xây dựng được phê duyệt",
            "<li>Luật Xây dựng năm 2014</li>",
            "<li>Nghị định 175/2024/NĐ-CP</li>",
            "Dịch vụ công trực tuyến một phần",
            // Workflow: roles, agency rules, quotas with a decimal comma.
            "Tiếp nhận hồ sơ",
            "Công chức tiếp nhận",
            "Cơ quan tiếp nhận",
            "Chuyên viên thụ lý",
            "Lãnh đạo ký duyệt",
            "Cơ quan cấp trên",
            "0,5 ngày",
            "15 ngày",
            "Phiên bản 1, áp dụng từ ngày 01/07/2025",
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        let thamdinh = html.find("Thẩm định hồ sơ").unwrap();
        assert!(html[thamdinh..].find("Sở Xây dựng").unwrap() < 300, "the fixed agency is named");

        let html = page(&app, "/thu-tuc/1.001193").await;
        for expected in [
            "Hồ sơ nộp trước 15:00 được trả kết quả trong ngày",
            "Ủy ban nhân dân xã Trấn Yên",
            "Thôn Đồng Tâm, xã Trấn Yên",
            "Có: tiếp nhận, thẩm định, phê duyệt và trả kết quả ngay tại bộ phận một cửa",
            "Khai sinh thông thường",
            r#"Trường hợp: <span lang="vi">Khai sinh có yếu tố nước ngoài</span>"#,
            "Thời hạn: 15 ngày",
            "Thời hạn: 1 ngày làm việc",
            "Dịch vụ công trực tuyến toàn trình",
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        let fees = html.find("id=\"fees\"").unwrap();
        let after = html[fees..].split("</h2>").nth(1).unwrap().trim_start();
        assert!(after.starts_with("<p>Không</p>"), "no fees: Không, not {after:.40}");

        let html = page(&app, "/thu-tuc/2.000889").await;
        assert!(html.contains("4 giờ làm việc"));
        assert!(html.contains(r#"<span lang="vi">Lệ phí</span>: 0 đồng (<span lang="vi">Miễn lệ phí</span>)"#));
        assert!(html.contains("Chưa cung cấp trực tuyến"));
    }

    async fn forms_download_and_nothing_else_does(t) {
        seed(t).await;
        let mut tx = t.db.begin().await.unwrap();
        let private = t.files().put(&mut tx, b"scan of a citizen ID card", "cccd.jpg", "image/jpeg").await.unwrap();
        tx.commit().await.unwrap();
        let app = TestApp::spawn(t).await;

        let html = page(&app, "/thu-tuc/1.009994").await;
        let link = first_file_link(&html);
        let res = app.get(&link).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
        let encoded = disposition.strip_prefix("attachment; filename*=UTF-8''").expect(&disposition);
        assert_eq!(percent_decode(encoded), "Mẫu đơn đề nghị.docx");
        assert!(encoded.is_ascii() && !encoded.contains(' '));
        assert_eq!(res.bytes().await.unwrap().as_ref(), PERMIT_FORM);

        let html = page(&app, "/thu-tuc/1.001193").await;
        let res = app.get(&first_file_link(&html)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/pdf");

        // A stored file that is no procedure's form is private.
        let res = app.get(&format!("/files/{}", private.sha256)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.text().await.unwrap().contains("Không tìm thấy trang"));
        for path in [
            "/files/0000000000000000000000000000000000000000000000000000000000000000",
            "/files/not-a-digest",
            "/files/..%2F..%2Fetc%2Fpasswd",
        ] {
            assert_eq!(app.get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    async fn an_unknown_procedure_is_a_friendly_404(t) {
        seed(t).await;
        let app = TestApp::spawn(t).await;
        let res = app.get("/thu-tuc/9.999999").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let html = res.text().await.unwrap();
        assert!(html.contains("Không tìm thấy trang"));
        assert!(html.contains("quay về trang chủ"));
    }
}

#[tokio::test]
async fn an_empty_catalog_says_so_kindly() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let html = page(&app, "/thu-tuc").await;
    assert_eq!(found(&html), "Tìm thấy 0");
    assert!(html.contains("Không có thủ tục nào phù hợp"));
}
