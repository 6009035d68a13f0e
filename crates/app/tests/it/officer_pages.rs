//! The officers' pages as an officer meets them, on both backends: actions that end a dossier
//! ask to confirm on a page of their own, only the actions the officer may take now are
//! offered (the likely ones first), inbox tabs with counts opening on the officer's own queue,
//! the step list saying which act closed a step, Form 02 for an incomplete walk-in, and the
//! real receipt instant beside the start of the legal clock (dossier page, Form 01, Form 07).

use crate::pages_dossiers::{
    DESK_AGENCY, Officer, PDF, PROCEDURE, action_form, intake, intake_fields, offers, setup,
};
use crate::support::{add_user, count, fixtures_dir, officer, on_both_backends};
use chrono::{DateTime, TimeZone, Utc};
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, ApplicantInput, ComponentInput, IntakeInput};
use reqwest::StatusCode;

const COMMUNE: &str = "000.30.02.H56";

/// A local (UTC+7) instant in March 2026 (2026-03-06 is a Friday).
fn march(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap() - chrono::Duration::hours(7)
}

/// Where a text first appears on a page (panics when it does not).
fn at(html: &str, text: &str) -> usize {
    html.find(text)
        .unwrap_or_else(|| panic!("{text:?} not on the page"))
}

/// The `<a>` of a tab of the inbox, by its label.
fn tab<'h>(html: &'h str, label: &str) -> &'h str {
    let end = at(html, &format!("{label} <span class=\"tab-count\">"));
    let start = html[..end].rfind("<a ").expect("the tab's link");
    let rest = &html[start..];
    &rest[..rest.find("</a>").expect("end of the tab")]
}

on_both_backends! {
    async fn actions_that_end_a_dossier_look_destructive_and_ask_to_confirm(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let code = intake(&desk, "Phạm Thị Dung").await;
        let page = desk.page(&format!("/ho-so/{code}")).await;
        // Withdrawal is a red link to a confirmation page, not a form posting at once; the
        // likely move (transfer) comes first.
        let confirm = format!("/ho-so/{code}/xac-nhan/withdraw");
        assert!(page.contains(&format!("class=\"button button-warning\" id=\"withdraw-confirm\" href=\"{confirm}\"")), "{page}");
        assert!(!offers(&page, &code, "withdraw"), "no one-click withdrawal");
        assert!(at(&page, "id=\"act-transfer\"") < at(&page, "id=\"act-withdraw\""), "transfer before withdraw");
        // The confirmation page repeats what will happen and holds the real form.
        let c = desk.page(&confirm).await;
        assert!(c.contains("Xác nhận: Rút hồ sơ (theo đề nghị)") && c.contains("Không thể hoàn tác") && c.contains(&code));
        assert!(c.contains("class=\"button button-warning\" type=\"submit\" id=\"withdraw-submit\""));
        assert!(offers(&c, &code, "withdraw") && c.contains(&format!("href=\"/ho-so/{code}\"")), "a way back");
        assert!(!c.contains("<script"), "no script");
        // No reason: the same page, with the error, nothing done.
        let form = action_form(&c, &code, "withdraw");
        let version = crate::support::hidden_value(form, "expected_version").unwrap();
        let r = desk
            .submit(&format!("/ho-so/{code}/xu-ly/withdraw"), &[("expected_version", version.as_str()), ("note", "  ")], &[])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("<title>Lỗi: Xác nhận") && r.body.contains("aria-invalid=\"true\""), "{}", r.body);
        assert!(desk.page(&format!("/ho-so/{code}")).await.contains("Đã tiếp nhận"), "still received");
        // With a reason it is done.
        desk.act_ok(&code, "withdraw", &[("note", "Người nộp đề nghị rút hồ sơ")], &[]).await;
        let after = desk.page(&format!("/ho-so/{code}")).await;
        assert!(after.contains("status-7"), "withdrawn (status 7)");
        // Nothing left to confirm; and only actions that end a dossier have such a page.
        assert_eq!(desk.get(&confirm).await.status, StatusCode::CONFLICT);
        assert_eq!(desk.get(&format!("/ho-so/{code}/xac-nhan/transfer")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(desk.get(&format!("/ho-so/{code}/xac-nhan/nonsense")).await.status, StatusCode::NOT_FOUND);
    }

    async fn each_officer_is_offered_only_what_they_may_do_now_the_likely_first(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let code = intake(&desk, "Hoàng Văn Em").await;
        desk.act_ok(&code, "transfer", &[], &[]).await;
        let page = desk.page(&format!("/ho-so/{code}")).await;
        assert!(!offers(&page, &code, "transfer") && !offers(&page, &code, "assign"), "the desk's part is done");
        assert!(!page.contains("xac-nhan/stop"), "stopping is the approver's");
        let leader = Officer::login(&app, "lanhdao.xd").await;
        let page = leader.page(&format!("/ho-so/{code}")).await;
        assert!(offers(&page, &code, "assign"));
        assert!(!offers(&page, &code, "approve") && !page.contains("xac-nhan/withdraw"));
        leader.act_ok(&code, "assign", &[("assignee", "chuyenvien.xd")], &[]).await;
        let specialist = Officer::login(&app, "chuyenvien.xd").await;
        let page = specialist.page(&format!("/ho-so/{code}")).await;
        assert!(at(&page, "id=\"act-complete_step\"") < at(&page, "id=\"act-request_supplement\""), "forward before supplement");
        assert!(!offers(&page, &code, "assign") && !offers(&page, &code, "approve"));
        specialist.act_ok(&code, "complete_step", &[("note", "Đủ điều kiện")], &[]).await;
        let approver = Officer::login(&app, "pheduyet.xd").await;
        let page = approver.page(&format!("/ho-so/{code}")).await;
        assert!(at(&page, "id=\"act-approve\"") < at(&page, "id=\"act-stop\""), "approve before stop");
        assert!(page.contains(&format!("href=\"/ho-so/{code}/xac-nhan/stop\"")) && !offers(&page, &code, "stop"));
    }

    async fn inbox_tabs_show_counts_and_open_on_the_officers_own_queue(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let first = intake(&desk, "Vũ Thị Giang").await;
        let _second = intake(&desk, "Đỗ Văn Hùng").await;
        desk.act_ok(&first, "transfer", &[], &[]).await;
        let leader = Officer::login(&app, "lanhdao.xd").await;
        leader.act_ok(&first, "assign", &[("assignee", "chuyenvien.xd")], &[]).await;
        // The specialist opens on "mine", with its count; the other tabs count too.
        let specialist = Officer::login(&app, "chuyenvien.xd").await;
        let list = specialist.page("/ho-so").await;
        let mine = tab(&list, "Của tôi");
        assert!(mine.contains("aria-current=\"page\"") && mine.contains("(1)"), "{mine}");
        assert!(list.contains(&first) && list.contains("Của tôi: 1 hồ sơ"));
        assert!(!tab(&list, "Tất cả").contains("aria-current"));
        // The desk opens on its queue of online dossiers; "all" counts both of its dossiers.
        let list = desk.page("/ho-so").await;
        assert!(tab(&list, "Chờ tiếp nhận").contains("aria-current=\"page\""), "{list}");
        assert!(tab(&list, "Tất cả").contains("(2)"), "{list}");
        // The leader opens on the unit's open steps.
        let list = leader.page("/ho-so").await;
        assert!(tab(&list, "Của đơn vị").contains("aria-current=\"page\""));
        // A filter narrows every count: a name that only one dossier has.
        let list = desk.page("/ho-so?inbox=all&q=do%20van%20hung").await;
        assert!(tab(&list, "Tất cả").contains("(1)"), "{list}");
    }

    async fn the_step_list_says_the_approval_closed_the_clerk_step(t) {
        let app = setup(t).await;
        // Birth registration with a clerk's step after the approver's.
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("procedures.json")).unwrap()).unwrap();
        let mut p = all.as_array().unwrap().iter().find(|p| p["code"] == "1.001193").unwrap().clone();
        p["code"] = "1.001194".into();
        p["name"] = "Đăng ký khai sinh (có bước văn thư)".into();
        p["time_limit"] = "5 working-days".into();
        for case in p["cases"].as_array_mut().unwrap() {
            case["time_limit"] = "5 working-days".into();
            case["steps"].as_array_mut().unwrap().push(serde_json::json!(
                {"name": "Vào sổ, đóng dấu, phát hành", "role": "clerk", "agency": "receiving", "quota_days": 0.25}));
        }
        motcua::catalog_io::import_procedures(
            &t.db, &t.files(), &serde_json::json!([p]).to_string(), &motcua::catalog_io::DirSource(fixtures_dir()), "test",
        )
        .await
        .expect("import");
        add_user(&t.db, "chuyenvien.xa", COMMUNE, &["specialist"]).await;
        add_user(&t.db, "pheduyet.xa", COMMUNE, &["approver"]).await;
        add_user(&t.db, "vanthu.xa", COMMUNE, &["clerk"]).await;
        let desk = Officer::login(&app, "tiepnhan.xa").await;
        let fields = [
            ("procedure", "1.001194"), ("agency", COMMUNE), ("channel", "direct"), ("case", "dung-han"),
            ("kind", "person"), ("name", "Lý Thị Khánh"), ("id_number", "015093000777"), ("phone", "0912 000 111"),
            ("email", ""), ("address", ""), ("submitter_name", ""), ("request", ""),
            ("c0_provided", "on"), ("c1_provided", "on"),
        ];
        let r = desk.submit("/ho-so/tiep-nhan", &fields, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let code = r.location.trim_start_matches("/ho-so/").trim_end_matches("/phieu-tiep-nhan").to_string();
        desk.act_ok(&code, "transfer", &[], &[]).await;
        Officer::login(&app, "chuyenvien.xa").await.act_ok(&code, "complete_step", &[], &[]).await;
        let approver = Officer::login(&app, "pheduyet.xa").await;
        approver
            .act_ok(&code, "approve", &[("result_number", "12/TLKS")], &[("file", "trich-luc.pdf", PDF)])
            .await;
        let page = Officer::login(&app, "vanthu.xa").await.page(&format!("/ho-so/{code}")).await;
        let timeline = &page[at(&page, "class=\"timeline\"")..];
        let clerk_row = &timeline[at(timeline, "Vào sổ, đóng dấu, phát hành")..];
        let clerk_row = &clerk_row[..clerk_row.find("</tr>").unwrap()];
        assert!(clerk_row.contains("Văn thư") && clerk_row.contains("Nguyễn Văn Thử"), "{clerk_row}");
        assert!(clerk_row.contains("Đóng cùng thao tác “Phê duyệt, ban hành kết quả” (bao gồm bước này)"), "{clerk_row}");
        // The approver's own step was closed by its own act: no such note.
        let approver_row = &timeline[..at(timeline, "Vào sổ, đóng dấu, phát hành")];
        let approver_row = &approver_row[approver_row.rfind("<tr").unwrap()..];
        assert!(!approver_row.contains("covered-by"), "{approver_row}");
    }

    async fn an_incomplete_walk_in_gets_a_printable_form_02_and_nothing_is_received(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let form = desk.page(&format!("/ho-so/tiep-nhan?procedure={PROCEDURE}&agency={DESK_AGENCY}")).await;
        assert!(form.contains("formaction=\"/ho-so/tiep-nhan/mau-02\""), "the second button of the intake form");
        let before = count(&t.db, "dossiers").await;
        let incomplete: Vec<(&str, &str)> = intake_fields("Ngô Thị Lan", "015093000555")
            .into_iter()
            .filter(|(k, _)| *k != "c1_provided")
            .collect();
        let r = desk.submit("/ho-so/tiep-nhan/mau-02", &incomplete, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Mẫu số 02") && r.body.contains("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"));
        assert!(r.body.contains("Ngô Thị Lan") && r.body.contains("Hồ sơ chưa được tiếp nhận"));
        let missing = &r.body[at(&r.body, "id=\"missing\"")..];
        let missing = &missing[..missing.find("</table>").unwrap()];
        assert!(missing.contains("Bản vẽ thiết kế xây dựng") && !missing.contains("Đơn đề nghị"), "{missing}");
        assert_eq!(count(&t.db, "dossiers").await, before, "not received, not counted");
        // A complete dossier is received, not sent away with Form 02.
        let r = desk.submit("/ho-so/tiep-nhan/mau-02", &intake_fields("Ngô Thị Lan", "015093000555"), &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("không cần in Mẫu 02"), "{}", r.body);
        // Without the token: refused.
        let r = desk.post_raw("/ho-so/tiep-nhan/mau-02", &[("procedure".into(), PROCEDURE.into())], &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    async fn an_after_hours_receipt_shows_its_instant_and_the_start_of_the_legal_clock(t) {
        let app = setup(t).await;
        // Received on Friday 6 March 2026 at 17:30, after closing; returned the same evening.
        let on = |at: DateTime<Utc>| t.services().with_clock(std::sync::Arc::new(motcua_service::FixedClock(at)));
        let desk_user = officer(t, "tiepnhan").await;
        let input = IntakeInput {
            procedure: PROCEDURE.into(),
            case: Some("cong-trinh".into()),
            agency: DESK_AGENCY.into(),
            channel: "direct".into(),
            applicant: ApplicantInput {
                kind: "person".into(),
                name: "Trịnh Văn Minh".into(),
                id_number: "015093000999".into(),
                phone: "0912 999 000".into(),
                email: String::new(),
                address: String::new(),
            },
            submitter_name: String::new(),
            request: String::new(),
            components: (0..2).map(|index| ComponentInput { index, provided: true, file: None }).collect(),
            delivery: None,
            notify: None,
        };
        let v = on(march(6, 17, 30)).intake(Actor::Officer(&desk_user), input).await.expect("intake");
        let code = v.dossier.code.clone().unwrap();
        let scan = t.services().store_scan("ket-qua.pdf", PDF).await.expect("scan");
        let steps: [(&str, Action, ActionInput); 5] = [
            ("tiepnhan", Action::Transfer, ActionInput::default()),
            ("lanhdao.xd", Action::Assign, ActionInput { assignee: Some("chuyenvien.xd".into()), ..Default::default() }),
            ("chuyenvien.xd", Action::CompleteStep, ActionInput::default()),
            ("pheduyet.xd", Action::Approve, ActionInput { file: Some(format!("sha256:{}", scan.sha256)), ..Default::default() }),
            ("tiepnhan", Action::ReturnResult, ActionInput::default()),
        ];
        for (i, (who, action, input)) in steps.into_iter().enumerate() {
            let user = officer(t, who).await;
            on(march(6, 17, 31 + i as u32 * 3)).act(Actor::Officer(&user), &code, action, input).await.expect("act");
        }
        let desk = Officer::login(&app, "tiepnhan").await;
        // The dossier page: both instants, labelled.
        let page = desk.page(&format!("/ho-so/{code}")).await;
        assert!(page.contains("Thời điểm tiếp nhận</dt><dd id=\"received-at\">17:30 06/03/2026"), "{page}");
        assert!(page.contains("Thời điểm bắt đầu tính thời hạn</dt><dd id=\"clock-start-at\">07:00 09/03/2026"), "{page}");
        assert!(page.contains("tiếp nhận ngoài giờ hành chính"));
        // Form 01.
        let form01 = desk.page(&format!("/ho-so/{code}/phieu-tiep-nhan")).await;
        assert!(form01.contains("<span id=\"received-at\">17:30 06/03/2026</span>"), "{form01}");
        assert!(form01.contains("<span id=\"clock-start-at\">07:00 09/03/2026</span>"), "{form01}");
        assert!(form01.contains("ngày 06 tháng 03 năm 2026"), "dated the day it was handed over");
        // Form 06 shows both as well.
        let form06 = desk.page(&format!("/ho-so/{code}/phieu-kiem-soat")).await;
        assert!(form06.contains("<dd id=\"received-at\">17:30 06/03/2026</dd>"), "{form06}");
        assert!(form06.contains("<dd id=\"clock-start-at\">07:00 09/03/2026</dd>"), "{form06}");
        // Form 07: the receipt before the return, the legal start beside it.
        let register = desk.page("/so-theo-doi?from=2026-03-01&to=2026-03-31").await;
        let row = &register[at(&register, &format!(">{code}</a>"))..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("<td class=\"received\">17:30 06/03/2026<br><span class=\"muted\">(bắt đầu tính hạn: 07:00 09/03/2026)</span>"), "{row}");
        assert!(row.contains("<td class=\"returned\">17:43 06/03/2026"), "{row}");
        assert!(!row.contains("Dữ liệu lỗi"), "{row}");
        assert!(register.contains("theo ngày bắt đầu tính thời hạn"));
        // The API gives both instants.
        let token = app.token("tiepnhan").await;
        let res = app.client.get(app.url(&format!("/api/v1/dossiers/{code}"))).bearer_auth(token).send().await.unwrap();
        let d: serde_json::Value = res.json().await.unwrap();
        let instant = |k: &str| DateTime::parse_from_rfc3339(d[k].as_str().unwrap()).unwrap().to_utc();
        assert_eq!(instant("actually_received_at"), march(6, 17, 30));
        assert_eq!(instant("received_at"), march(9, 7, 0));
        // The report says which day it counts a dossier on.
        let report = desk.page("/bao-cao").await;
        assert!(report.contains("Hồ sơ được tính vào ngày bắt đầu tính thời hạn giải quyết"), "{report}");
    }
}
