//! Language of the pages: Vietnamese (default, full diacritics) or English, chosen by the
//! `motcua_lang` cookie (`/ngon-ngu/en`, `/ngon-ngu/vi`). A middleware puts the choice in a
//! task-local, so templates call `t("key")` without every handler passing it along.
//! Officers' back-office pages stay Vietnamese; the citizen-facing pages are translated.
//!
//! Texts live in one table, [`TEXTS`]: a key, the Vietnamese, the English. A text may hold
//! `{}` placeholders, filled in order by [`t1`]/[`t2`]; an English text read through
//! [`tn1`]/[`tn2`] may give a singular and a plural form as `singular|plural`. Texts shown
//! with `|safe` in templates may hold markup; all others are escaped like any value.

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use motcua_domain::dossier::Status;
use motcua_domain::msg::plural;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

pub use motcua_domain::msg::Lang;

pub const COOKIE: &str = "motcua_lang";

tokio::task_local! {
    static LANG: Lang;
}

/// The language a request's cookie chooses.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    match crate::cookies::cookie(headers, COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Vi,
    }
}

/// The language's code (`lang` attributes).
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "vi",
        Lang::En => "en",
    }
}

/// The language of the request being served (Vietnamese outside a request).
pub fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::Vi)
}

/// Whether the request is served in English.
pub fn is_en() -> bool {
    lang() == Lang::En
}

/// Runs a future in a language (tests, and work outside a request).
pub async fn with_lang<F: std::future::Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// Middleware: serve the request in the language of its cookie.
pub async fn layer(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    LANG.scope(lang, next.run(req)).await
}

/// The text of a key in the current language; Vietnamese when English is missing.
pub fn t(key: &str) -> &'static str {
    text_in(lang(), key)
}

/// The text of a key in a given language (pages that stay Vietnamese ask for `Lang::Vi`).
pub fn text_in(lang: Lang, key: &str) -> &'static str {
    let (vi, en) = text(key);
    match lang {
        Lang::En if !en.is_empty() => en,
        _ => vi,
    }
}

/// Replaces the `{}` placeholders of a text, in order (`msg::fill`, for any `Display`).
pub fn fill(text: &str, args: &[&dyn Display]) -> String {
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    motcua_domain::msg::fill(text, &args)
}

/// The text of a key with its one placeholder filled.
pub fn t1(key: &str, a: impl Display) -> String {
    fill(t(key), &[&a])
}

/// The text of a key with its two placeholders filled.
pub fn t2(key: &str, a: impl Display, b: impl Display) -> String {
    fill(t(key), &[&a, &b])
}

/// A counted text: the count fills the first placeholder and picks the English form.
pub fn tn1(key: &str, n: impl Display) -> String {
    let n = n.to_string();
    fill(plural(t(key), Some(&n)), &[&n])
}

/// A counted text with a second value.
pub fn tn2(key: &str, n: impl Display, b: impl Display) -> String {
    let n = n.to_string();
    fill(plural(t(key), Some(&n)), &[&n, &b])
}

/// The label of a dossier status in the current language.
pub fn status_label(status: Status) -> &'static str {
    status.label(lang())
}

fn text(key: &str) -> (&'static str, &'static str) {
    static INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
        LazyLock::new(|| TEXTS.iter().map(|(k, vi, en)| (*k, (*vi, *en))).collect());
    INDEX.get(key).copied().unwrap_or(("", ""))
}

/// Every text: (key, Vietnamese, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    // The layout.
    (
        "site",
        "Hệ thống thông tin một cửa điện tử",
        "One-stop administrative services",
    ),
    ("skip", "Bỏ qua, đến nội dung chính", "Skip to main content"),
    ("nav", "Điều hướng chính", "Main navigation"),
    ("nav.home", "Trang chủ", "Home"),
    ("nav.procedures", "Thủ tục hành chính", "Procedures"),
    ("nav.lookup", "Tra cứu hồ sơ", "Track a dossier"),
    ("nav.feedback", "Phản ánh, kiến nghị", "Feedback"),
    ("nav.citizen", "Đăng nhập công dân", "Citizen sign-in"),
    ("nav.account", "Tài khoản", "Account"),
    ("nav.signed_in", "Đang đăng nhập:", "Signed in:"),
    ("nav.my_dossiers", "Hồ sơ của tôi", "My dossiers"),
    ("nav.dossiers", "Hồ sơ", "Dossiers"),
    ("nav.admin", "Quản trị", "Administration"),
    ("nav.evaluation", "Đánh giá", "Evaluation"),
    ("nav.login", "Đăng nhập cán bộ", "Officer sign-in"),
    ("nav.logout", "Đăng xuất", "Sign out"),
    ("switch.href", "/ngon-ngu/en", "/ngon-ngu/vi"),
    ("switch.label", "English", "Tiếng Việt"),
    (
        "footer",
        "motcua — phần mềm mã nguồn mở. Giờ pháp lý: Asia/Ho_Chi_Minh (UTC+7).",
        "motcua — open-source software. Legal time: Asia/Ho_Chi_Minh (UTC+7).",
    ),
    // The lookup page.
    ("lookup.title", "Tra cứu tình trạng hồ sơ", "Track your dossier"),
    ("lookup.failed", "Chưa tra cứu được", "We could not find it"),
    ("lookup.result", "Hồ sơ {}", "Dossier {}"),
    ("lookup.enter", "Nhập thông tin tra cứu", "Enter your details"),
    ("lookup.code", "Mã hồ sơ", "Dossier code"),
    (
        "lookup.code_hint",
        "Ví dụ: 000.00.01.H56-261207-0001. Có thể dán cả tin nhắn báo tiếp nhận; chữ hoa hay thường đều được.",
        "For example 000.00.01.H56-261207-0001. You may paste the whole text message; capitals or not.",
    ),
    (
        "lookup.verify",
        "4 chữ số cuối của số điện thoại hoặc số định danh cá nhân người nộp",
        "Last 4 digits of the applicant's phone or ID number",
    ),
    ("lookup.submit", "Tra cứu", "Look up"),
    ("lookup.applicant", "Người nộp", "Applicant"),
    ("lookup.procedure", "Thủ tục", "Procedure"),
    ("lookup.agency", "Nơi tiếp nhận", "Received by"),
    ("lookup.status", "Trạng thái", "Status"),
    ("lookup.received", "Ngày tiếp nhận", "Received"),
    ("lookup.due", "Hẹn trả kết quả", "Result due"),
    ("lookup.missing", "Hồ sơ cần bổ sung:", "To complete:"),
    ("lookup.ready", "Kết quả đã có.", "The result is ready."),
    ("lookup.steps", "Quá trình xử lý", "Progress"),
    ("lookup.step", "Bước", "Step"),
    ("lookup.step_agency", "Cơ quan", "Agency"),
    ("lookup.started", "Bắt đầu", "Started"),
    ("lookup.completed", "Hoàn thành", "Completed"),
    ("lookup.timing", "Tiến độ", "Timing"),
    // Shared by forms.
    ("form.errors", "Có lỗi cần sửa", "Please correct the following"),
    ("form.error_prefix", "Lỗi: ", "Error: "),
    (
        "form.expired",
        "Biểu mẫu đã hết hạn. Vui lòng gửi lại.",
        "The form has expired. Please send it again.",
    ),
    (
        "form.csrf",
        "Biểu mẫu không hợp lệ (CSRF).",
        "The form is not valid (CSRF).",
    ),
    ("pager", "Phân trang", "Pagination"),
    ("pager.prev", "← Trang trước", "← Previous page"),
    ("pager.next", "Trang sau →", "Next page →"),
    // The landing page.
    (
        "landing.lead",
        "Tiếp nhận, giải quyết và trả kết quả thủ tục hành chính theo Nghị định 118/2025/NĐ-CP:\nngười dân, doanh nghiệp nộp hồ sơ trực tuyến hoặc tại bộ phận một cửa, tra cứu tiến độ bằng mã hồ sơ;\ncán bộ xử lý hồ sơ đúng hạn; lãnh đạo theo dõi số liệu mọi lúc.",
        "Receiving and handling administrative procedures and returning their results under Decree 118/2025/NĐ-CP: citizens and businesses submit dossiers online or at the one-stop desk and track them with the dossier code; officers handle dossiers on time; leaders follow the figures at any time.",
    ),
    (
        "landing.demo",
        "Bản trình diễn: đăng nhập với vai trò",
        "Demo: sign in with a role",
    ),
    (
        "landing.demo_intro",
        "Đây là dữ liệu mẫu của một tỉnh giả định. Mỗi tài khoản dưới đây dùng được ngay;\n  mật khẩu của tất cả tài khoản mẫu là",
        "This is sample data of an imaginary province. Every account below works right away;\n  the password of all sample accounts is",
    ),
    (
        "landing.demo_caption",
        "Tài khoản mẫu theo vai trò",
        "Sample accounts by role",
    ),
    ("landing.role", "Vai trò", "Role"),
    (
        "landing.citizen",
        "Công dân (đăng nhập công dân)",
        "Citizen (citizen sign-in)",
    ),
    ("landing.username", "Tên đăng nhập", "Username"),
    ("landing.agency", "Cơ quan", "Agency"),
    ("landing.by_status", "Hồ sơ theo trạng thái", "Dossiers by status"),
    ("landing.no_dossiers", "Chưa có hồ sơ nào.", "No dossiers yet."),
    (
        "landing.counts_age",
        "Số liệu được tính lại sau mỗi 30 giây.",
        "These figures are recounted every 30 seconds.",
    ),
    ("landing.number", "Mã", "No."),
    ("landing.status", "Trạng thái", "Status"),
    ("landing.count", "Số hồ sơ", "Dossiers"),
    ("landing.dev", "Dành cho tích hợp", "For integrators"),
    ("landing.api_docs", "Tài liệu API", "API documentation"),
    // The error page.
    ("error.not_found", "Không tìm thấy trang", "Page not found"),
    ("error.forbidden", "Không có quyền truy cập", "Access denied"),
    ("error.unauthorized", "Cần đăng nhập", "Sign-in required"),
    ("error.bad_request", "Yêu cầu không hợp lệ", "Invalid request"),
    (
        "error.internal",
        "Hệ thống đang gặp sự cố",
        "The system is having a problem",
    ),
    (
        "error.help",
        "Bạn có thể <a href=\"/\">quay về trang chủ</a>. Nếu bạn gõ địa chỉ, hãy kiểm tra lại chính tả.",
        "You can <a href=\"/\">go back to the home page</a>. If you typed the address, check its spelling.",
    ),
    ("error.code", "Mã lỗi: {}", "Error code: {}"),
    (
        "error.not_found_text",
        "Không tìm thấy trang bạn yêu cầu.",
        "The page you asked for does not exist.",
    ),
    (
        "error.internal_text",
        "Hệ thống gặp lỗi. Vui lòng thử lại sau ít phút.",
        "Something went wrong. Please try again in a few minutes.",
    ),
    // The procedure catalog.
    ("catalog.title", "Thủ tục hành chính", "Administrative procedures"),
    (
        "catalog.lead",
        "Danh mục thủ tục hành chính được niêm yết công khai: thành phần hồ sơ, thời hạn giải quyết,\nphí, lệ phí, nơi nộp hồ sơ và mẫu đơn, tờ khai.",
        "The public list of administrative procedures: required documents, time limits,\nfees and charges, where to submit, and application forms.",
    ),
    ("catalog.find", "Tìm thủ tục", "Find a procedure"),
    (
        "catalog.find_hint",
        "Gõ tên hoặc mã thủ tục, có dấu hoặc không dấu, ví dụ: cap giay phep xay dung.",
        "Type the name or code of a procedure, with or without Vietnamese diacritics, for example: cap giay phep xay dung.",
    ),
    ("catalog.field", "Lĩnh vực", "Field"),
    ("catalog.all_fields", "Tất cả lĩnh vực", "All fields"),
    ("catalog.agency", "Cơ quan thực hiện", "Implementing agency"),
    ("catalog.all_agencies", "Tất cả cơ quan", "All agencies"),
    ("catalog.level", "Cấp thực hiện", "Implementing level"),
    ("catalog.all_levels", "Tất cả các cấp", "All levels"),
    ("catalog.search", "Tìm kiếm", "Search"),
    ("catalog.clear", "Xóa bộ lọc", "Clear filters"),
    (
        "catalog.found",
        "Tìm thấy {} thủ tục",
        "{} procedure found|{} procedures found",
    ),
    (
        "catalog.none",
        "Không có thủ tục nào phù hợp.",
        "No procedure matches.",
    ),
    (
        "catalog.none_help",
        "Hãy thử từ khóa ngắn hơn (ví dụ “khai sinh” thay vì cả tên thủ tục), kiểm tra chính tả,\n  hoặc <a href=\"/thu-tuc\">xem toàn bộ danh mục</a>. Cán bộ bộ phận một cửa luôn sẵn sàng hướng dẫn bạn.",
        "Try a shorter keyword (for example “khai sinh” rather than the full name), check the spelling,\n  or <a href=\"/thu-tuc\">see the whole catalog</a>. Officers at the one-stop desk are always there to help you.",
    ),
    (
        "catalog.caption",
        "Danh sách thủ tục, trang {} trên {}",
        "List of procedures, page {} of {}",
    ),
    ("catalog.code", "Mã", "Code"),
    ("catalog.name", "Tên thủ tục", "Procedure"),
    ("catalog.limit", "Thời hạn giải quyết", "Time limit"),
    ("catalog.online", "Mức độ trực tuyến", "Online service level"),
    ("catalog.four", "4 tại chỗ", "4 on the spot"),
    ("catalog.page", "Trang {} / {}", "Page {} / {}"),
    (
        "detail.back",
        "← Danh mục thủ tục hành chính",
        "← Procedure catalog",
    ),
    ("detail.code", "Mã thủ tục", "Procedure code"),
    ("detail.online_limit", "; nộp trực tuyến: ", "; online: "),
    ("detail.same_day", "Trả kết quả trong ngày", "Same-day results"),
    (
        "detail.same_day_text",
        "Hồ sơ nộp trước {} được trả kết quả trong ngày; nộp sau {} được trả vào ngày làm việc tiếp theo.",
        "Dossiers submitted before {} get their result the same day; after {}, on the next working day.",
    ),
    (
        "detail.online_level",
        "Mức độ dịch vụ công trực tuyến",
        "Online public service level",
    ),
    ("detail.four", "“4 tại chỗ”", "“4 on the spot”"),
    (
        "detail.four_yes",
        "Có: tiếp nhận, thẩm định, phê duyệt và trả kết quả ngay tại bộ phận một cửa",
        "Yes: received, appraised, approved and returned on the spot at the one-stop desk",
    ),
    ("detail.no", "Không", "No"),
    ("detail.where", "Nơi nộp hồ sơ", "Where to submit"),
    (
        "detail.where_none",
        "Liên hệ bộ phận một cửa gần nhất để được hướng dẫn.",
        "Ask the nearest one-stop desk for guidance.",
    ),
    ("detail.one_stop", "Bộ phận một cửa", "One-stop desk"),
    ("detail.address", "Địa chỉ: {}", "Address: {}"),
    ("detail.agency_code", "Mã cơ quan: {}", "Agency code: {}"),
    ("detail.methods", "Cách thức thực hiện", "How to submit"),
    ("detail.applicants", "Đối tượng thực hiện", "Who may apply"),
    ("detail.components", "Thành phần hồ sơ", "Required documents"),
    (
        "detail.components_caption",
        "Thành phần hồ sơ cần chuẩn bị",
        "Documents to prepare",
    ),
    ("detail.document", "Tên giấy tờ", "Document"),
    ("detail.originals", "Số bản chính", "Originals"),
    ("detail.copies", "Số bản sao", "Copies"),
    ("detail.required", "Bắt buộc", "Required"),
    ("detail.optional", "Không bắt buộc", "Optional"),
    ("detail.form", "Mẫu đơn, tờ khai", "Form"),
    ("detail.download", "Tải mẫu", "Download the form"),
    ("detail.fees", "Phí, lệ phí", "Fees and charges"),
    ("detail.none", "Không", "None"),
    ("detail.result", "Kết quả thực hiện", "Result"),
    (
        "detail.conditions",
        "Yêu cầu, điều kiện thực hiện",
        "Requirements and conditions",
    ),
    ("detail.legal_basis", "Căn cứ pháp lý", "Legal basis"),
    ("detail.cases", "Trình tự giải quyết", "How it is handled"),
    ("detail.case", "Trường hợp: ", "Case: "),
    ("detail.case_limit", "Thời hạn: ", "Time limit: "),
    (
        "detail.steps_caption",
        "Các bước xử lý — {}",
        "Processing steps — {}",
    ),
    ("detail.step", "Bước", "Step"),
    ("detail.task", "Nội dung", "Task"),
    ("detail.role", "Người thực hiện", "Done by"),
    ("detail.agency", "Cơ quan", "Agency"),
    ("detail.time", "Thời gian", "Time"),
    (
        "detail.version",
        "Phiên bản {}, áp dụng từ ngày {}.",
        "Version {}, in force from {}.",
    ),
    // The citizen's account.
    (
        "citizen.login",
        "Số điện thoại hoặc thư điện tử",
        "Phone number or email",
    ),
    ("citizen.full_name", "Họ và tên", "Full name"),
    ("citizen.password", "Mật khẩu", "Password"),
    (
        "citizen.new_password",
        "Mật khẩu (ít nhất 8 ký tự)",
        "Password (at least 8 characters)",
    ),
    ("citizen.register", "Đăng ký tài khoản", "Create an account"),
    (
        "citizen.register_intro",
        "Dùng số điện thoại hoặc thư điện tử của bạn. Chúng tôi gửi một mã 6 chữ số để xác thực.",
        "Use your phone number or email. We send a 6-digit code to confirm it.",
    ),
    ("citizen.register_submit", "Đăng ký", "Register"),
    (
        "citizen.have_account",
        "Đã có tài khoản? Đăng nhập",
        "Already have an account? Sign in",
    ),
    ("citizen.verify", "Xác thực tài khoản", "Confirm your account"),
    (
        "citizen.verify_intro",
        "Nhập mã 6 chữ số vừa được gửi tới số điện thoại hoặc thư điện tử của bạn (hiệu lực 10 phút).",
        "Enter the 6-digit code just sent to your phone or email (valid for 10 minutes).",
    ),
    ("citizen.verify_code", "Mã xác thực", "Confirmation code"),
    ("citizen.verify_submit", "Xác thực", "Confirm"),
    (
        "citizen.resend",
        "Gửi lại mã (đăng ký lại)",
        "Send the code again (register again)",
    ),
    (
        "citizen.code_sent",
        "Đã gửi mã xác thực.",
        "A confirmation code has been sent.",
    ),
    (
        "citizen.codes_to",
        "Máy chủ này chưa kết nối dịch vụ SMS hay thư điện tử (chế độ thử nghiệm): mã được ghi thành tệp trong thư mục {} trên máy chủ.",
        "This server is not connected to an SMS or e-mail service (test mode): the code is written as a file in the folder {} on the server.",
    ),
    ("citizen.sign_in", "Đăng nhập công dân", "Citizen sign-in"),
    (
        "citizen.sign_in_intro",
        "Đăng nhập để nộp hồ sơ trực tuyến, theo dõi và đánh giá hồ sơ của bạn.",
        "Sign in to submit dossiers online, follow them and rate the service.",
    ),
    ("citizen.sign_in_submit", "Đăng nhập", "Sign in"),
    (
        "citizen.no_account",
        "Chưa có tài khoản? Đăng ký",
        "No account yet? Register",
    ),
    ("citizen.forgot_link", "Quên mật khẩu", "Forgot your password?"),
    (
        "citizen.verified",
        "Tài khoản đã được xác thực. Mời bạn đăng nhập.",
        "Your account is confirmed. Please sign in.",
    ),
    (
        "citizen.was_reset",
        "Đã đặt lại mật khẩu. Mời bạn đăng nhập.",
        "Your password has been reset. Please sign in.",
    ),
    ("citizen.forgot", "Quên mật khẩu", "Forgotten password"),
    (
        "citizen.forgot_intro",
        "Nhập số điện thoại hoặc thư điện tử của tài khoản; nếu tài khoản tồn tại, chúng tôi gửi mã để đặt lại mật khẩu.",
        "Enter the phone number or email of your account; if the account exists, we send a code to reset the password.",
    ),
    ("citizen.forgot_submit", "Gửi mã", "Send the code"),
    ("citizen.back_to_sign_in", "Quay lại đăng nhập", "Back to sign-in"),
    ("citizen.reset", "Đặt lại mật khẩu", "Reset your password"),
    (
        "citizen.reset_intro",
        "Nhập mã đã gửi tới bạn và mật khẩu mới.",
        "Enter the code we sent you and a new password.",
    ),
    ("citizen.reset_code", "Mã", "Code"),
    (
        "citizen.reset_password",
        "Mật khẩu mới (ít nhất 8 ký tự)",
        "New password (at least 8 characters)",
    ),
    ("citizen.reset_submit", "Đặt lại mật khẩu", "Reset the password"),
    (
        "citizen.reset_sent",
        "Nếu tài khoản tồn tại, mã đã được gửi.",
        "If the account exists, a code has been sent.",
    ),
    ("citizen.home_title", "Hồ sơ của tôi", "My dossiers"),
    ("citizen.hello", "Xin chào, {}", "Hello, {}"),
    (
        "citizen.no_dossiers",
        "Bạn chưa có hồ sơ nào. Xem <a href=\"/thu-tuc\">danh mục thủ tục hành chính</a> để nộp hồ sơ.",
        "You have no dossiers yet. See the <a href=\"/thu-tuc\">procedure catalog</a> to submit one.",
    ),
    ("citizen.code", "Mã hồ sơ", "Dossier code"),
    ("citizen.procedure", "Thủ tục", "Procedure"),
    ("citizen.status", "Trạng thái", "Status"),
    ("citizen.submitted", "Ngày nộp", "Submitted"),
    ("citizen.due", "Hẹn trả", "Due"),
    ("citizen.sign_out", "Đăng xuất", "Sign out"),
    // Online submission.
    ("submit.title", "Nộp hồ sơ trực tuyến", "Submit a dossier online"),
    ("submit.start", "Nộp hồ sơ trực tuyến", "Submit online"),
    ("citizen.new_dossier", "Nộp hồ sơ mới", "Submit a new dossier"),
    (
        "landing.lookup",
        "Tra cứu hồ sơ đã nộp bằng mã hồ sơ",
        "Look up a dossier by its code",
    ),
    (
        "landing.catalog",
        "Xem danh mục thủ tục hành chính",
        "Browse the administrative procedures",
    ),
    (
        "detail.not_online",
        "Thủ tục này chưa nhận hồ sơ trực tuyến: nộp tại bộ phận một cửa nêu dưới đây.",
        "This procedure does not take dossiers online yet: submit at a one-stop desk listed below.",
    ),
    (
        "choose.title",
        "Chọn thủ tục để nộp hồ sơ trực tuyến",
        "Choose the procedure to submit online",
    ),
    (
        "choose.intro",
        "Tìm thủ tục theo tên hoặc mã (có dấu hay không dấu đều được), rồi chọn “Nộp hồ sơ trực tuyến”.",
        "Find the procedure by name or code (with or without Vietnamese accents), then choose “Submit online”.",
    ),
    ("choose.search", "Tên hoặc mã thủ tục", "Procedure name or code"),
    ("choose.find", "Tìm", "Search"),
    ("choose.details", "Xem thủ tục", "Procedure details"),
    (
        "choose.none",
        "Không có thủ tục nộp trực tuyến nào khớp.",
        "No procedure you can submit online matches.",
    ),
    (
        "choose.found",
        "{} thủ tục nộp trực tuyến được",
        "{} procedure(s) you can submit online",
    ),
    (
        "choose.signed_out",
        "Đã có tài khoản? Đăng nhập để theo dõi hồ sơ và dùng lại giấy tờ đã nộp.",
        "Have an account? Sign in to follow your dossier and reuse documents.",
    ),
    ("submit.case", "Trường hợp", "Case"),
    ("submit.agency", "Nơi tiếp nhận", "Receiving agency"),
    ("submit.kind", "Là", "Applying as"),
    (
        "submit.person",
        "Công dân (số định danh cá nhân)",
        "Citizen (personal ID number)",
    ),
    (
        "submit.organisation",
        "Tổ chức, doanh nghiệp (mã số thuế)",
        "Organisation or business (tax code)",
    ),
    (
        "submit.name",
        "Họ và tên / Tên tổ chức",
        "Full name / Name of the organisation",
    ),
    (
        "submit.id_number",
        "Số định danh cá nhân (12 số) hoặc mã số thuế",
        "Personal ID number (12 digits) or tax code",
    ),
    ("submit.phone", "Số điện thoại", "Phone number"),
    ("submit.email", "Thư điện tử", "Email"),
    ("submit.address", "Địa chỉ", "Address"),
    ("submit.request", "Nội dung yêu cầu", "Your request"),
    (
        "submit.components",
        "Thành phần hồ sơ (tệp PDF, JPEG hoặc PNG, tối đa 10 MB mỗi tệp)",
        "Documents (PDF, JPEG or PNG files, at most 10 MB each)",
    ),
    ("submit.required", "(bắt buộc)", "(required)"),
    (
        "submit.reuse",
        "hoặc dùng lại giấy tờ đã nộp trước đây",
        "or reuse a document you handed in before",
    ),
    ("submit.no_reuse", "— Không dùng lại —", "— Do not reuse —"),
    ("submit.fees", "Phí, lệ phí:", "Fees and charges:"),
    (
        "submit.fees_when",
        ", thanh toán trực tuyến sau khi nộp.",
        ", paid online after you submit.",
    ),
    ("submit.submit", "Nộp hồ sơ", "Submit"),
    (
        "submit.file_failed",
        "Tệp quá lớn hoặc bị lỗi khi tải lên (tối đa 10 MB).",
        "The file is too large or failed to upload (at most 10 MB).",
    ),
    (
        "submit.not_online",
        "Thủ tục này chưa nhận hồ sơ trực tuyến. Vui lòng nộp tại bộ phận một cửa.",
        "This procedure does not take online submissions yet. Please submit at the one-stop desk.",
    ),
    ("submit.amount", "{} đồng", "{} VND"),
    // The submission journey (a draft, section by section).
    ("draft.before", "Trước khi bắt đầu", "Before you start"),
    (
        "draft.you_need",
        "Chuẩn bị bản quét (PDF, JPEG hoặc PNG, tối đa 10 MB mỗi tệp) của các giấy tờ sau:",
        "Have scans (PDF, JPEG or PNG, at most 10 MB each) of these documents ready:",
    ),
    ("draft.time", "Thời hạn giải quyết:", "Time limit:"),
    (
        "draft.saved_note",
        "Câu trả lời được lưu sau mỗi phần: bạn có thể dừng và quay lại sau bằng địa chỉ của trang (hoặc từ “Hồ sơ của tôi” nếu đã đăng nhập).",
        "Your answers are saved after each part: you can stop and come back later with the page's address (or from “My dossiers” when signed in).",
    ),
    ("draft.start", "Bắt đầu", "Start now"),
    ("draft.title", "Hồ sơ đang soạn", "Your application"),
    (
        "draft.keep_link",
        "Lưu lại địa chỉ trang này để tiếp tục sau; ai có địa chỉ này đều xem được bản nháp.",
        "Keep this page's address to come back later; anyone with it can see the draft.",
    ),
    ("draft.sections", "Các phần cần hoàn thành", "Parts to complete"),
    ("draft.done", "Đã xong", "Completed"),
    ("draft.todo", "Chưa xong", "Not yet started"),
    (
        "draft.of_sections",
        "Đã xong {} trên {} phần.",
        "You have completed {} of {} parts.",
    ),
    ("draft.s.applicant", "Người nộp hồ sơ", "About the applicant"),
    (
        "draft.s.request",
        "Nội dung yêu cầu và nơi tiếp nhận",
        "Your request and where it goes",
    ),
    ("draft.s.documents", "Giấy tờ (thành phần hồ sơ)", "Documents"),
    ("draft.s.delivery", "Cách nhận kết quả", "How to get the result"),
    (
        "draft.s.check",
        "Kiểm tra và nộp hồ sơ",
        "Check your answers and submit",
    ),
    ("draft.part", "Phần {} trên {}", "Part {} of {}"),
    ("draft.continue", "Lưu và tiếp tục", "Save and continue"),
    ("draft.back", "← Các phần của hồ sơ", "← All parts"),
    (
        "draft.check_title",
        "Kiểm tra thông tin trước khi nộp",
        "Check your answers before submitting",
    ),
    ("draft.change", "Thay đổi", "Change"),
    (
        "draft.not_ready",
        "Hoàn thành các phần còn thiếu trước khi nộp.",
        "Complete the missing parts before you submit.",
    ),
    (
        "draft.declare",
        "Bằng việc nộp hồ sơ, bạn cam đoan các thông tin và giấy tờ trên là đúng sự thật.",
        "By submitting, you declare that the information and documents above are true.",
    ),
    ("draft.file_held", "Đã tải lên:", "Uploaded:"),
    (
        "draft.replace",
        "Chọn tệp khác để thay",
        "Choose another file to replace it",
    ),
    ("draft.remove", "Bỏ tệp này", "Remove this file"),
    ("draft.no_file", "Chưa có tệp", "No file yet"),
    (
        "draft.delivery_legend",
        "Bạn muốn nhận kết quả bằng cách nào?",
        "How do you want to receive the result?",
    ),
    (
        "draft.delivery.desk",
        "Nhận trực tiếp tại bộ phận một cửa",
        "Collect it at the one-stop desk",
    ),
    (
        "draft.delivery.post",
        "Qua dịch vụ bưu chính công ích (trả phí bưu chính khi nhận)",
        "By the public postal service (postage paid on delivery)",
    ),
    (
        "draft.delivery.electronic",
        "Bản điện tử, tải về tại “Hồ sơ của tôi” (cần đăng nhập)",
        "Electronic copy, downloaded from “My dossiers” (sign-in needed)",
    ),
    (
        "draft.delivery_address",
        "Địa chỉ nhận qua bưu chính",
        "Postal address",
    ),
    (
        "draft.delivery_address_hint",
        "Chỉ cần khi chọn nhận qua bưu chính.",
        "Only needed when the result comes by post.",
    ),
    ("store.title", "Kho dữ liệu của tôi", "My data store"),
    (
        "store.lead",
        "Kết quả giải quyết đã cấp cho bạn và giấy tờ bạn đã nộp, lưu điện tử để dùng lại khi nộp hồ sơ sau.",
        "The results issued to you and the documents you handed in, kept electronically to reuse in later submissions.",
    ),
    ("store.results", "Kết quả đã được cấp", "Results issued"),
    ("store.documents", "Giấy tờ đã nộp", "Documents handed in"),
    (
        "store.no_results",
        "Chưa có kết quả điện tử nào.",
        "No electronic result yet.",
    ),
    (
        "store.no_documents",
        "Chưa có giấy tờ điện tử nào.",
        "No electronic document yet.",
    ),
    (
        "store.reuse_hint",
        "Khi nộp hồ sơ trực tuyến, ở phần giấy tờ bạn có thể chọn dùng lại một tệp trong kho thay vì tải lên lại.",
        "When you submit online, the documents part lets you reuse a file from this store instead of uploading it again.",
    ),
    (
        "notify.legend",
        "Nhận thông báo về hồ sơ qua",
        "Get news of the dossier by",
    ),
    (
        "notify.hint",
        "Thông báo gửi đến số điện thoại và địa chỉ thư điện tử đã khai ở phần người nộp.",
        "News goes to the phone and e-mail address given in the applicant part.",
    ),
    (
        "notify.all",
        "Tin nhắn SMS và thư điện tử (những gì đã khai)",
        "SMS and e-mail (whichever were given)",
    ),
    ("notify.sms", "Chỉ tin nhắn SMS", "SMS only"),
    ("notify.email", "Chỉ thư điện tử", "E-mail only"),
    ("draft.files", "Giấy tờ", "Documents"),
    (
        "draft.section_missing",
        "Phần này chưa được điền.",
        "This part is not filled in yet.",
    ),
    (
        "draft.drafts",
        "Hồ sơ đang soạn, chưa nộp",
        "Applications not yet submitted",
    ),
    ("draft.touched", "Lưu lúc {}", "Saved {}"),
    ("submitted.title", "Đã nộp hồ sơ", "Dossier submitted"),
    ("submitted.dossier", "Hồ sơ", "Your dossier for"),
    ("submitted.sent", "đã được gửi.", "has been sent."),
    (
        "submitted.check",
        "Cán bộ sẽ kiểm tra hồ sơ",
        "An officer will check the dossier",
    ),
    ("submitted.before", "trước", "before"),
    (
        "submitted.then",
        "Mã hồ sơ và ngày hẹn trả được gửi tới bạn khi hồ sơ được tiếp nhận. Theo dõi hồ sơ tại <a href=\"/tra-cuu\">trang tra cứu</a> bằng số tham chiếu trên hoặc mã hồ sơ, cùng 4 số cuối số điện thoại hoặc số định danh.",
        "The dossier code and due date are sent to you once it is accepted. Follow it on the <a href=\"/tra-cuu\">tracking page</a> with the reference above or the dossier code, and the last 4 digits of your phone or ID number.",
    ),
    ("submitted.fees", "Phí, lệ phí", "Fees and charges"),
    (
        "submitted.paid",
        "Đã thanh toán {} (mã giao dịch {}).",
        "Paid {} (transaction {}).",
    ),
    (
        "submitted.sandbox",
        "MÔI TRƯỜNG THỬ NGHIỆM (sandbox)",
        "TEST ENVIRONMENT (sandbox)",
    ),
    (
        "submitted.sandbox_note",
        ": không có tiền thật được chuyển.",
        ": no real money is transferred.",
    ),
    ("submitted.amount", "Số tiền:", "Amount:"),
    ("submitted.pay", "Thanh toán thử nghiệm", "Make a test payment"),
    ("submitted.mine", "Xem hồ sơ của tôi", "See my dossiers"),
    ("submitted.next", "Việc tiếp theo", "What happens next"),
    (
        "submitted.step_check",
        "Công chức tiếp nhận kiểm tra hồ sơ; nếu thiếu giấy tờ, bạn nhận thông báo nêu rõ cần bổ sung gì.",
        "A receiving officer checks the dossier; if something is missing you are told what to add.",
    ),
    (
        "submitted.step_code",
        "Khi tiếp nhận, hồ sơ có mã và ngày hẹn trả kết quả (Giấy tiếp nhận và hẹn trả kết quả, Mẫu 01).",
        "Once accepted, the dossier gets its code and a due date (the receipt, Form 01).",
    ),
    ("submitted.step_delivery", "Kết quả: {}.", "The result: {}."),
    (
        "submitted.keep",
        "Giữ số tham chiếu này để tra cứu:",
        "Keep this reference to look the dossier up:",
    ),
    // Checking that a result is authentic.
    (
        "result.title",
        "Kiểm tra tính xác thực của kết quả",
        "Check that a result is authentic",
    ),
    (
        "result.lead",
        "Nhập mã xác thực in kèm kết quả giải quyết thủ tục hành chính, hoặc chọn tệp kết quả điện tử, để biết đó có phải kết quả do hệ thống này cấp hay không.",
        "Type the verification code printed with an administrative result, or choose the electronic result file, to learn whether this system issued it.",
    ),
    ("result.authentic", "Kết quả xác thực", "Authentic result"),
    ("result.verification", "Mã xác thực", "Verification code"),
    ("result.agency", "Cơ quan cấp", "Issued by"),
    ("result.number", "Số, ký hiệu", "Number"),
    ("result.approved_by", "Người phê duyệt", "Approved by"),
    (
        "result.stamp",
        "In tem xác thực (mã QR)",
        "Print the verification stamp (QR code)",
    ),
    ("result.issued", "Ngày cấp", "Issued"),
    (
        "result.not_found",
        "Không tìm thấy kết quả nào của hệ thống khớp",
        "No result of this system matches",
    ),
    (
        "result.not_found_hint",
        "Kiểm tra lại mã, hoặc liên hệ cơ quan đã cấp kết quả. Một tệp đã bị sửa, dù chỉ một ký tự, không còn khớp.",
        "Check the code again, or ask the agency that issued it. A file changed in any way no longer matches.",
    ),
    ("result.code_label", "Mã xác thực", "Verification code"),
    (
        "result.code_hint",
        "16 ký tự, ví dụ A1B2-C3D4-E5F6-0789 (có hay không có dấu gạch đều được).",
        "16 characters, e.g. A1B2-C3D4-E5F6-0789 (dashes optional).",
    ),
    ("result.check", "Kiểm tra", "Check"),
    (
        "result.or_file",
        "Hoặc kiểm tra bằng tệp kết quả",
        "Or check the result file",
    ),
    (
        "result.file_label",
        "Tệp kết quả điện tử (tối đa 50 MB)",
        "Electronic result file (at most 50 MB)",
    ),
    ("result.check_file", "Kiểm tra tệp", "Check the file"),
    (
        "result.choose_file",
        "Chọn tệp kết quả cần kiểm tra.",
        "Choose the result file to check.",
    ),
    (
        "result.code_on_page",
        "Mã xác thực của kết quả:",
        "The result's verification code:",
    ),
    // The citizen's dossier.
    ("dossier.title", "Hồ sơ {}", "Dossier {}"),
    ("dossier.back", "← Hồ sơ của tôi", "← My dossiers"),
    ("dossier.status", "Trạng thái", "Status"),
    ("dossier.code", "Mã hồ sơ", "Dossier code"),
    (
        "dossier.no_code_yet",
        "Chưa có (cấp khi hồ sơ được tiếp nhận); số tham chiếu: {}",
        "Not yet (given when the dossier is accepted); reference: {}",
    ),
    ("dossier.submitted_at", "Ngày nộp", "Submitted"),
    (
        "dossier.accept_due",
        "Hạn kiểm tra, tiếp nhận",
        "To be checked by",
    ),
    ("dossier.received_at", "Thời điểm tiếp nhận", "Accepted"),
    (
        "dossier.clock_from",
        "Bắt đầu tính thời hạn (giờ làm việc kế tiếp)",
        "Time limit counted from (next office hours)",
    ),
    ("dossier.returned_at", "Ngày trả kết quả", "Result handed over"),
    ("dossier.paid", "đã thanh toán", "paid"),
    ("dossier.unpaid", "chưa thanh toán", "not paid yet"),
    ("dossier.pay_now", "Thanh toán", "Pay"),
    (
        "dossier.receipt",
        "Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01)",
        "Receipt and appointment slip (Form 01)",
    ),
    ("dossier.what_you_sent", "Thông tin đã nộp", "What you submitted"),
    ("dossier.file_handed_in", "đã nộp tệp", "file handed in"),
    ("dossier.due", "Hẹn trả kết quả", "Result due"),
    (
        "dossier.missing",
        "Cơ quan yêu cầu bổ sung:",
        "The agency asks you to add:",
    ),
    ("dossier.steps", "Quá trình xử lý", "Progress"),
    ("dossier.step", "Bước", "Step"),
    ("dossier.started", "Bắt đầu", "Started"),
    ("dossier.completed", "Hoàn thành", "Completed"),
    (
        "dossier.result",
        "Tải kết quả điện tử",
        "Download the electronic result",
    ),
    (
        "dossier.supplement",
        "Nộp hồ sơ bổ sung",
        "Hand in additional documents",
    ),
    (
        "dossier.supplement_file",
        "Tệp bổ sung (PDF, JPEG hoặc PNG, tối đa 10 MB)",
        "Additional file (PDF, JPEG or PNG, at most 10 MB)",
    ),
    ("dossier.supplement_submit", "Nộp bổ sung", "Hand in"),
    (
        "dossier.rate",
        "Đánh giá chất lượng giải quyết",
        "Rate the service",
    ),
    (
        "dossier.satisfaction",
        "Mức độ hài lòng chung",
        "Overall satisfaction",
    ),
    ("dossier.very_satisfied", "Rất hài lòng", "Very satisfied"),
    ("dossier.satisfied", "Hài lòng", "Satisfied"),
    ("dossier.not_satisfied", "Không hài lòng", "Not satisfied"),
    ("dossier.rate_submit", "Gửi đánh giá", "Send the rating"),
    ("dossier.rated", "Bạn đã đánh giá:", "Your rating:"),
    ("dossier.withdraw", "Rút hồ sơ", "Withdraw the dossier"),
    (
        "dossier.withdraw_reason",
        "Lý do rút hồ sơ",
        "Reason for withdrawing",
    ),
    ("dossier.withdraw_submit", "Rút hồ sơ", "Withdraw"),
    (
        "dossier.supplemented",
        "Đã nộp hồ sơ bổ sung.",
        "The additional documents have been handed in.",
    ),
    (
        "dossier.withdrawn",
        "Đã rút hồ sơ.",
        "The dossier has been withdrawn.",
    ),
    (
        "dossier.thanks",
        "Cảm ơn bạn đã đánh giá.",
        "Thank you for your rating.",
    ),
    (
        "dossier.choose_file",
        "Chọn tệp hồ sơ bổ sung (PDF, JPEG hoặc PNG).",
        "Choose the file to hand in (PDF, JPEG or PNG).",
    ),
    (
        "dossier.bad_file",
        "Tệp không hợp lệ: {}",
        "The file is not valid: {}",
    ),
    // Feedback and petitions: the form.
    (
        "feedback.title",
        "Gửi phản ánh, kiến nghị",
        "Send feedback or a petition",
    ),
    ("feedback.error_prefix", "Lỗi: ", "Error: "),
    (
        "feedback.lead",
        "Phản ánh về quy định hành chính, về việc giải quyết hồ sơ hoặc thái độ, hành vi của cán bộ, công chức.\nCơ quan xem xét, trả lời trong thời hạn quy định; câu trả lời có thể được công khai, nhưng họ tên, số điện thoại\nvà thư điện tử của bạn không bao giờ được công khai.",
        "Feedback on administrative regulations, on how a dossier was handled, or on the conduct of officials.\nThe agency reviews it and answers within the legal time limit; the answer may be published, but your name,\nphone number and email are never made public.",
    ),
    (
        "feedback.see_answered",
        "Xem các phản ánh, kiến nghị đã được trả lời",
        "See feedback and petitions already answered",
    ),
    ("feedback.channel", "Hình thức tiếp nhận", "Channel"),
    (
        "feedback.channel_hint",
        "Công chức ghi nhận phản ánh qua điện thoại hoặc bằng văn bản cho cơ quan của mình.",
        "Officials record feedback received by phone or in writing for their own agency.",
    ),
    (
        "feedback.dossier_code",
        "Mã hồ sơ (nếu phản ánh về một hồ sơ cụ thể)",
        "Dossier code (if it is about a particular dossier)",
    ),
    (
        "feedback.dossier_code_hint",
        "Mã in trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả, ví dụ 000.00.01.H56-251128-0001. Có thể để trống.",
        "The code printed on the dossier receipt, for example 000.00.01.H56-251128-0001. May be left empty.",
    ),
    ("feedback.name", "Họ và tên", "Full name"),
    (
        "feedback.contact_hint",
        "Nhập số điện thoại hoặc thư điện tử (ít nhất một) để cơ quan gửi câu trả lời.",
        "Enter a phone number or email (at least one) so that the agency can send you its answer.",
    ),
    ("feedback.phone", "Số điện thoại", "Phone number"),
    ("feedback.email", "Thư điện tử", "Email"),
    (
        "feedback.agency",
        "Cơ quan được phản ánh, kiến nghị",
        "Agency concerned",
    ),
    (
        "feedback.choose_agency",
        "— Chọn cơ quan —",
        "— Choose an agency —",
    ),
    ("feedback.subject", "Tiêu đề", "Subject"),
    (
        "feedback.content",
        "Nội dung phản ánh, kiến nghị",
        "Your feedback or petition",
    ),
    (
        "feedback.content_hint",
        "Nêu rõ sự việc, thời gian, địa điểm và đề nghị của bạn (tối đa 5.000 ký tự).",
        "Say what happened, when and where, and what you ask for (at most 5,000 characters).",
    ),
    ("feedback.submit", "Gửi phản ánh, kiến nghị", "Send"),
    (
        "feedback.expired",
        "Phiên biểu mẫu đã hết hạn. Vui lòng kiểm tra lại và gửi lần nữa.",
        "The form has expired. Please check it and send it again.",
    ),
    // Feedback and petitions: sent.
    (
        "feedback.sent_title",
        "Đã gửi phản ánh, kiến nghị {}",
        "Feedback sent: {}",
    ),
    (
        "feedback.received",
        "Đã nhận phản ánh, kiến nghị",
        "We have received your feedback",
    ),
    (
        "feedback.your_reference",
        "Mã phản ánh, kiến nghị của bạn:",
        "Your reference:",
    ),
    (
        "feedback.keep_reference",
        "Hãy ghi lại mã này để liên hệ khi cần.",
        "Note this code down to contact us if needed.",
    ),
    ("feedback.reviewing_agency", "Cơ quan xem xét", "Reviewing agency"),
    ("feedback.sent_channel", "Hình thức", "Channel"),
    ("feedback.received_at", "Tiếp nhận lúc", "Received at"),
    (
        "feedback.forward_due",
        "Hạn phân loại hoặc chuyển cơ quan có thẩm quyền",
        "Deadline to classify it or forward it to the competent agency",
    ),
    ("feedback.answer_due", "Hạn trả lời", "Answer due"),
    (
        "feedback.forwarding",
        "Nếu phản ánh, kiến nghị thuộc thẩm quyền của cơ quan khác, nó sẽ được chuyển đến cơ quan có thẩm quyền;\nkhi đó hạn trả lời được tính lại từ thời điểm chuyển. Câu trả lời được gửi đến số điện thoại hoặc thư điện tử bạn đã cung cấp.",
        "If another agency is competent, your feedback is forwarded to it;\nthe answer deadline then runs again from the forwarding. The answer is sent to the phone number or email you gave.",
    ),
    (
        "feedback.send_other",
        "Gửi phản ánh, kiến nghị khác",
        "Send other feedback",
    ),
    (
        "feedback.answered_link",
        "Các phản ánh, kiến nghị đã trả lời",
        "Answered feedback and petitions",
    ),
    // Feedback and petitions: published answers.
    (
        "public.title",
        "Phản ánh, kiến nghị đã trả lời",
        "Answered feedback and petitions",
    ),
    (
        "public.lead",
        "Câu trả lời của cơ quan nhà nước đối với phản ánh, kiến nghị của người dân, doanh nghiệp. Thông tin cá nhân người gửi không được công khai.",
        "Answers of state agencies to feedback and petitions from citizens and businesses. The senders' personal details are never published.",
    ),
    (
        "public.send",
        "Gửi phản ánh, kiến nghị",
        "Send feedback or a petition",
    ),
    (
        "public.search_label",
        "Tìm phản ánh, kiến nghị",
        "Search feedback and petitions",
    ),
    ("public.search", "Tìm kiếm", "Search"),
    (
        "public.search_hint",
        "Từ trong tiêu đề, nội dung, câu trả lời, tên cơ quan hoặc mã phản ánh; gõ có dấu hay không dấu đều được.",
        "Words from the subject, content, answer, agency name or reference; with or without diacritics.",
    ),
    ("public.find", "Tìm", "Search"),
    ("public.clear", "Bỏ tìm kiếm", "Clear the search"),
    ("public.count", "{} câu trả lời", "{} answer|{} answers"),
    (
        "public.count_q",
        "{} câu trả lời cho “{}”",
        "{} answer for “{}”|{} answers for “{}”",
    ),
    (
        "public.none",
        "Không có phản ánh, kiến nghị nào đã được trả lời",
        "No answered feedback",
    ),
    ("public.none_q", " khớp với từ khóa", " matches your search"),
    ("public.ref", "Mã", "Ref."),
    ("public.received", "tiếp nhận", "received"),
    ("public.answered", "trả lời", "answered"),
    ("public.on_time", "Đúng hạn", "On time"),
    ("public.late", "Quá hạn", "Late"),
    ("public.content", "Nội dung", "Content"),
    ("public.answer_of", "Trả lời của {}", "Answer from {}"),
    ("public.page", "Trang {}/{}", "Page {}/{}"),
    (
        "public.bad_page",
        "Số trang không hợp lệ: “{}”.",
        "Not a valid page number: “{}”.",
    ),
    (
        "public.long_query",
        "Từ khóa tìm kiếm quá dài.",
        "The search text is too long.",
    ),
    // Paying through the national payment platform.
    ("payment.pay_online", "Thanh toán trực tuyến", "Pay online"),
    (
        "payment.gateway_note",
        "Bạn sẽ được chuyển đến Cổng thanh toán quốc gia. Phí, lệ phí chỉ được ghi nhận là đã nộp khi cổng thanh toán xác nhận giao dịch.",
        "You will be taken to the national payment platform. The fee counts as paid only once the platform confirms the payment.",
    ),
    (
        "payment.checkout_title",
        "Chuyển đến cổng thanh toán",
        "On to the payment platform",
    ),
    (
        "payment.checkout_lead",
        "Bạn sắp nộp phí, lệ phí của hồ sơ {} qua Cổng thanh toán quốc gia.",
        "You are about to pay the fees of dossier {} through the national payment platform.",
    ),
    (
        "payment.checkout_note",
        "Trên cổng thanh toán, kiểm tra số tiền và mã giao dịch trước khi xác nhận. Sau khi thanh toán, cổng thanh toán đưa bạn trở lại trang này.",
        "On the platform, check the amount and the order number before you confirm. After paying, it brings you back here.",
    ),
    (
        "payment.go",
        "Tiếp tục đến cổng thanh toán",
        "Continue to the payment platform",
    ),
    ("payment.amount", "Số tiền", "Amount"),
    ("payment.order", "Mã đơn hàng", "Order number"),
    ("payment.expires", "Thanh toán trước", "Pay before"),
    ("payment.dossier", "Hồ sơ", "Dossier"),
    ("payment.transaction", "Mã giao dịch", "Transaction number"),
    ("payment.paid_title", "Thanh toán thành công", "Payment received"),
    (
        "payment.paid_lead",
        "Cổng thanh toán đã xác nhận bạn nộp {} phí, lệ phí cho hồ sơ {}.",
        "The payment platform confirmed that you paid {} in fees for dossier {}.",
    ),
    (
        "payment.failed_title",
        "Thanh toán không thành công",
        "Payment not made",
    ),
    (
        "payment.failed_lead",
        "Cổng thanh toán báo giao dịch không thành công (mã {}). Phí, lệ phí của hồ sơ chưa được nộp; bạn có thể thanh toán lại.",
        "The payment platform says the payment did not go through (code {}). The fees are still to be paid; you can try again.",
    ),
    (
        "payment.pending_title",
        "Đang chờ xác nhận thanh toán",
        "Waiting for the payment to be confirmed",
    ),
    (
        "payment.pending_lead",
        "Cổng thanh toán báo đã nhận thanh toán, nhưng hệ thống chưa nhận được xác nhận chính thức của cổng. Vui lòng tải lại trang sau ít phút và không thanh toán lại.",
        "The payment platform says it took the payment, but its confirmation has not reached us yet. Reload this page in a few minutes; do not pay again.",
    ),
    (
        "payment.disputed_title",
        "Giao dịch cần được đối soát",
        "The payment needs to be checked",
    ),
    (
        "payment.disputed_lead",
        "Cổng thanh toán báo đã thu tiền, nhưng giao dịch không khớp với phí, lệ phí của hồ sơ (sai số tiền, quá hạn thanh toán hoặc đã nộp trước đó) nên chưa được ghi nhận. Bộ phận một cửa sẽ đối soát và hoàn lại tiền nếu thu sai; bạn không cần thanh toán lại trước khi được liên hệ.",
        "The payment platform says it took the money, but the payment does not match the dossier's fees (wrong amount, paid after the order expired, or paid already), so it was not booked. The one-stop desk will check it and refund what was wrongly taken; do not pay again before they contact you.",
    ),
    (
        "payment.receipt",
        "Xem và in biên lai thu phí, lệ phí",
        "See and print the fee receipt",
    ),
    ("payment.back", "Quay lại hồ sơ", "Back to the dossier"),
    (
        "payment.again",
        "Quay lại hồ sơ để thanh toán lại",
        "Back to the dossier to pay again",
    ),
    ("payment.reload", "Tải lại trang", "Reload the page"),
    // National-identity sign-in (VNeID).
    ("citizen.vneid_sign_in", "Đăng nhập bằng {}", "Sign in with {}"),
    (
        "citizen.vneid_link_title",
        "Liên kết tài khoản với {}",
        "Link your account to {}",
    ),
    (
        "citizen.vneid_link_intro",
        "{} xác nhận bạn là {}. Số điện thoại hoặc thư điện tử {} đã có tài khoản trên hệ thống: nhập mật khẩu của tài khoản này để liên kết. Sau đó bạn đăng nhập được bằng cả hai cách và hồ sơ nộp từ tài khoản được ghi là đã xác thực định danh.",
        "{} confirms that you are {}. The phone number or e-mail {} already has an account here: enter its password to link them. You can then sign in either way, and dossiers sent from the account are marked as identity-verified.",
    ),
    (
        "citizen.vneid_link_submit",
        "Liên kết và đăng nhập",
        "Link and sign in",
    ),
    (
        "citizen.vneid_linked",
        "Tài khoản đã được xác thực định danh bằng {}.",
        "This account is verified with {}.",
    ),
    (
        "citizen.vneid_link_button",
        "Liên kết tài khoản với {}",
        "Link this account to {}",
    ),
    ("dossier.vneid", "Xác thực định danh", "Identity"),
    (
        "dossier.vneid_yes",
        "Nộp từ tài khoản đã xác thực bằng VNeID",
        "Sent from an account verified with VNeID",
    ),
];

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
        let mut seen = std::collections::HashSet::new();
        for (key, vi, en) in TEXTS {
            assert!(seen.insert(key), "{key} is twice in the table");
            assert!(!vi.is_empty() && !en.is_empty(), "{key}");
            assert!(!vi.contains('|'), "{key}: '|' is for English plurals only");
            // Each English form has the placeholders of the Vietnamese.
            for form in en.split('|') {
                assert_eq!(
                    vi.matches("{}").count(),
                    form.matches("{}").count(),
                    "{key}: placeholders differ"
                );
            }
        }
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

    /// Every `i18n::…("key")` of the templates and the page code names a key of the table.
    #[test]
    fn every_key_used_is_in_the_table() {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "html" || e == "rs") {
                    files.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("templates"), &mut files);
        walk(&root.join("src"), &mut files);
        let mut used = 0;
        let mut everything = String::new();
        for path in files {
            let source = std::fs::read_to_string(&path).expect("read");
            if !path.ends_with("i18n.rs") {
                everything.push_str(&source);
            }
            for call in source.split("i18n::").skip(1) {
                let Some((name, rest)) = call.split_once("(\"") else {
                    continue;
                };
                if !["t", "t1", "t2", "tn1", "tn2"].contains(&name) {
                    continue;
                }
                let key = rest.split('"').next().unwrap_or("");
                used += 1;
                assert!(!text(key).0.is_empty(), "{}: unknown key {key:?}", path.display());
            }
        }
        assert!(used > 100, "the scan found the calls ({used})");
        // And the other way: every key of the table is used (messages of the services come from
        // `motcua_domain::msg`, not from here).
        let unused: Vec<&str> = TEXTS
            .iter()
            .map(|(key, ..)| *key)
            .filter(|key| !everything.contains(&format!("\"{key}\"")))
            .collect();
        assert!(unused.is_empty(), "keys nothing uses: {unused:?}");
    }

    #[tokio::test]
    async fn placeholders_and_plurals_are_filled() {
        assert_eq!(t1("citizen.hello", "An"), "Xin chào, An");
        assert_eq!(tn1("catalog.found", 1), "Tìm thấy 1 thủ tục");
        assert_eq!(tn2("public.count_q", 2, "x"), "2 câu trả lời cho “x”");
        let en = LANG
            .scope(Lang::En, async {
                (
                    tn1("catalog.found", 1),
                    tn1("catalog.found", 12),
                    tn2("public.count_q", 1, "x"),
                    t2("catalog.page", 1, 3),
                    text_in(Lang::Vi, "nav.home"),
                )
            })
            .await;
        assert_eq!(
            en,
            (
                "1 procedure found".into(),
                "12 procedures found".into(),
                "1 answer for “x”".into(),
                "Page 1 / 3".into(),
                "Trang chủ"
            )
        );
    }

    #[tokio::test]
    async fn statuses_are_said_in_the_language_of_the_page() {
        let status = LANG
            .scope(Lang::En, async { status_label(Status::Received) })
            .await;
        assert_eq!(status, "Received");
        assert_eq!(status_label(Status::Received), "Đã tiếp nhận");
        for s in Status::ALL {
            assert!(!s.label_en().is_empty() && s.label_en() != s.label_vi());
        }
    }
}
