//! Language of the pages: Vietnamese (default, full diacritics) or English, chosen by the
//! `motcua_lang` cookie (`/ngon-ngu/en`, `/ngon-ngu/vi`). A middleware puts the choice in a
//! task-local, so templates call `t("key")` without every handler passing it along.
//! Officers' back-office pages stay Vietnamese; the citizen-facing pages are translated.

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

pub const COOKIE: &str = "motcua_lang";

tokio::task_local! {
    static LANG: Lang;
}

impl Lang {
    pub fn of(headers: &HeaderMap) -> Lang {
        match crate::auth::cookie(headers, COOKIE) {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// The language of the request being served (Vietnamese outside a request).
pub fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::Vi)
}

/// Middleware: serve the request in the language of its cookie.
pub async fn layer(req: Request, next: Next) -> Response {
    let lang = Lang::of(req.headers());
    LANG.scope(lang, next.run(req)).await
}

/// The text of a key in the current language; Vietnamese when English is missing.
pub fn t(key: &str) -> &'static str {
    let (vi, en) = text(key);
    match lang() {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "site" => (
            "Hệ thống thông tin một cửa điện tử",
            "One-stop administrative services",
        ),
        "skip" => ("Bỏ qua, đến nội dung chính", "Skip to main content"),
        "nav" => ("Điều hướng chính", "Main navigation"),
        "nav.home" => ("Trang chủ", "Home"),
        "nav.procedures" => ("Thủ tục hành chính", "Procedures"),
        "nav.lookup" => ("Tra cứu hồ sơ", "Track a dossier"),
        "nav.feedback" => ("Phản ánh, kiến nghị", "Feedback"),
        "nav.citizen" => ("Công dân", "Citizens"),
        "nav.dossiers" => ("Hồ sơ", "Dossiers"),
        "nav.admin" => ("Quản trị", "Administration"),
        "nav.login" => ("Đăng nhập cán bộ", "Officer sign-in"),
        "nav.logout" => ("Đăng xuất", "Sign out"),
        "switch.href" => ("/ngon-ngu/en", "/ngon-ngu/vi"),
        "switch.label" => ("English", "Tiếng Việt"),
        "footer" => (
            "motcua — phần mềm mã nguồn mở. Giờ pháp lý: Asia/Ho_Chi_Minh (UTC+7).",
            "motcua — open-source software. Legal time: Asia/Ho_Chi_Minh (UTC+7).",
        ),
        "lookup.title" => ("Tra cứu tình trạng hồ sơ", "Track your dossier"),
        "lookup.failed" => ("Chưa tra cứu được", "We could not find it"),
        "lookup.enter" => ("Nhập thông tin tra cứu", "Enter your details"),
        "lookup.code" => ("Mã hồ sơ", "Dossier code"),
        "lookup.verify" => (
            "4 chữ số cuối của số điện thoại hoặc số định danh cá nhân người nộp",
            "Last 4 digits of the applicant's phone or ID number",
        ),
        "lookup.submit" => ("Tra cứu", "Look up"),
        "lookup.applicant" => ("Người nộp", "Applicant"),
        "lookup.procedure" => ("Thủ tục", "Procedure"),
        "lookup.agency" => ("Nơi tiếp nhận", "Received by"),
        "lookup.status" => ("Trạng thái", "Status"),
        "lookup.received" => ("Ngày tiếp nhận", "Received"),
        "lookup.due" => ("Hẹn trả kết quả", "Result due"),
        "lookup.missing" => ("Hồ sơ cần bổ sung:", "To complete:"),
        "lookup.ready" => ("Kết quả đã có.", "The result is ready."),
        "lookup.steps" => ("Quá trình xử lý", "Progress"),
        "lookup.step" => ("Bước", "Step"),
        "lookup.step_agency" => ("Cơ quan", "Agency"),
        "lookup.started" => ("Bắt đầu", "Started"),
        "lookup.completed" => ("Hoàn thành", "Completed"),
        "lookup.timing" => ("Tiến độ", "Timing"),
        _ => ("", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_language_follows_the_request() {
        assert_eq!(t("nav.home"), "Trang chủ");
        let en = LANG.scope(Lang::En, async { t("nav.home") }).await;
        assert_eq!(en, "Home");
    }

    #[test]
    fn every_key_has_both_languages() {
        for key in [
            "site",
            "skip",
            "nav",
            "nav.home",
            "nav.procedures",
            "nav.lookup",
            "nav.feedback",
            "nav.citizen",
            "footer",
            "lookup.title",
            "lookup.code",
            "lookup.verify",
            "lookup.submit",
        ] {
            let (vi, en) = text(key);
            assert!(!vi.is_empty() && !en.is_empty() && vi != en, "{key}");
        }
    }
}
