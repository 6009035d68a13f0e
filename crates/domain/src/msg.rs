//! Messages by code: every problem the domain and the services report is a code with its
//! values, and [`TEXTS`] says each one in Vietnamese and in English. Nothing here chooses a
//! language for a person: the adapters (pages, API, command line) do, with [`Msg::text`].

use serde::Serialize;
use std::fmt;

/// The two languages of the texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Vi,
    En,
}

/// A message: a code of [`TEXTS`] and the values of its `{}` placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Msg {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// `msg!("code", a, b)`: a [`Msg`] with its values (anything `Display`). The code must be a
/// literal: a test reads every one in the sources and finds it in [`TEXTS`].
#[macro_export]
macro_rules! msg {
    ($code:literal $(, $arg:expr)* $(,)?) => {
        $crate::msg::Msg { code: $code, args: vec![$($arg.to_string()),*] }
    };
}

/// A value said in the message's own language rather than as given, such as a dossier
/// status or an action: both its texts, the one of the message's language is shown.
pub fn label(vi: &str, en: &str) -> String {
    format!("{LABEL}{vi}{LABEL}{en}")
}

/// A whole number as each language writes it: 5.000 in Vietnamese, 5,000 in English.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let grouped = |sep: char| {
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    };
    label(&grouped('.'), &grouped(','))
}

/// A value as messages quote it: in quotation marks, cut at 60 characters.
pub fn quoted(s: &str) -> String {
    let cut: String = s.chars().take(60).collect();
    if cut.len() < s.len() {
        format!("“{cut}…”")
    } else {
        format!("“{cut}”")
    }
}

/// Marks a value that is a label in both languages.
const LABEL: char = '\u{1}';

fn say(arg: &str, lang: Lang) -> String {
    match arg.strip_prefix(LABEL).and_then(|a| a.split_once(LABEL)) {
        Some((vi, _)) if lang == Lang::Vi => vi.to_string(),
        Some((_, en)) => en.to_string(),
        None => arg.to_string(),
    }
}

impl Msg {
    /// The message in a language; a code missing from the table shows as itself.
    pub fn text(&self, lang: Lang) -> String {
        match lookup(self.code) {
            Some((vi, en)) => {
                let args: Vec<String> = self.args.iter().map(|a| say(a, lang)).collect();
                let text = match lang {
                    Lang::Vi => vi,
                    Lang::En => plural(en, args.first().map(String::as_str)),
                };
                fill(text, &args)
            }
            None => self.code.to_string(),
        }
    }

    pub fn en(&self) -> String {
        self.text(Lang::En)
    }

    pub fn vi(&self) -> String {
        self.text(Lang::Vi)
    }
}

/// English, for logs and the command line.
impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en())
    }
}

/// One problem with an input, located by a JSON-ish path such as `cases[0].steps[2].role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub path: String,
    pub msg: Msg,
}

impl FieldError {
    pub fn new(path: impl Into<String>, msg: Msg) -> Self {
        FieldError {
            path: path.into(),
            msg,
        }
    }
}

/// `path: message`, in English.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.msg)
        } else {
            write!(f, "{}: {}", self.path, self.msg)
        }
    }
}

/// The form of a text `singular|plural` for a count (the first value): English has two.
pub fn plural(text: &'static str, n: Option<&str>) -> &'static str {
    match text.split_once('|') {
        Some((one, _)) if n == Some("1") => one,
        Some((_, many)) => many,
        None => text,
    }
}

/// Replaces the `{}` placeholders of a text with values, in order.
pub fn fill(text: &str, args: &[impl AsRef<str>]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let mut args = args.iter();
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        if let Some(a) = args.next() {
            out.push_str(a.as_ref());
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

fn lookup(code: &str) -> Option<(&'static str, &'static str)> {
    use std::collections::HashMap;
    use std::sync::LazyLock;
    static INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
        LazyLock::new(|| TEXTS.iter().map(|(c, vi, en)| (*c, (*vi, *en))).collect());
    INDEX.get(code).copied()
}

/// Every message: (code, Vietnamese, English). Codes are grouped by what they are about.
pub const TEXTS: &[(&str, &str, &str)] = &[
    // Anything.
    ("required", "không được để trống", "must not be empty"),
    ("too_long", "tối đa {} ký tự", "at most {} characters"),
    (
        "auth.api_csrf",
        "Phiên đăng nhập trên trình duyệt chỉ ghi qua API khi gửi kèm mã chống giả mạo (X-CSRF-Token).",
        "a browser session writes through the API only with its CSRF token in X-CSRF-Token; machine clients use a bearer token",
    ),
    (
        "statement.timeout",
        "Hệ thống đang bận nên yêu cầu đã dừng sau thời hạn cho phép; vui lòng thử lại sau ít phút.",
        "the system is busy and the request was stopped at its time limit; please try again in a few minutes",
    ),
    (
        "request.timeout",
        "Yêu cầu không hoàn thành trong {} giây nên đã bị dừng; hãy thử lại.",
        "the request did not finish within {} seconds and was stopped; try again",
    ),
    (
        "submit.too_many",
        "Đã có quá nhiều hồ sơ nộp từ địa chỉ này trong một giờ; hãy thử lại sau {} phút, hoặc đăng nhập tài khoản công dân.",
        "too many dossiers were submitted from this address this hour; try again in {} minute or sign in|too many dossiers were submitted from this address this hour; try again in {} minutes or sign in",
    ),
    (
        "idempotency.key",
        "Khóa Idempotency-Key phải có từ 1 đến {} ký tự ASCII in được.",
        "an Idempotency-Key is 1 to {} printable ASCII characters",
    ),
    (
        "idempotency.reused",
        "Khóa Idempotency-Key này đã dùng cho một yêu cầu khác.",
        "this Idempotency-Key was used for another request",
    ),
    (
        "text.nul",
        "Nội dung có ký tự không hợp lệ (ký tự NUL); hãy nhập lại.",
        "the text holds a character that is not allowed (NUL)",
    ),
    (
        "body.too_large",
        "Nội dung gửi lên quá lớn (tối đa {} KiB).",
        "the request body is too large (at most {} KiB)",
    ),
    (
        "search.too_long",
        "Từ khóa tìm kiếm quá dài (tối đa {} ký tự).",
        "the search is too long (at most {} characters)",
    ),
    ("length", "phải có từ {} đến {} ký tự", "must be {}–{} characters"),
    (
        "one_of",
        "chọn một giá trị trong danh sách ({})",
        "must be one of {}",
    ),
    (
        "page_range",
        "số trang phải từ 1 đến 100000",
        "page must be between 1 and 100000",
    ),
    (
        "date_format",
        "{} phải có dạng YYYY-MM-DD",
        "{} must be YYYY-MM-DD",
    ),
    (
        "changed_meanwhile",
        "Dữ liệu vừa được một yêu cầu khác thay đổi cùng lúc. Vui lòng tải lại trang và thử lại.",
        "another request changed the same record at the same moment; reload and try again",
    ),
    (
        "store_failed",
        "Hệ thống gặp lỗi khi lưu. Không có gì bị thay đổi; vui lòng thử lại.",
        "the system could not complete the request; nothing was changed, please try again",
    ),
    (
        "forbidden",
        "Bạn không có quyền thực hiện thao tác này.",
        "this action needs a role you do not have",
    ),
    ("not_found", "Không tìm thấy trang bạn yêu cầu.", "not found"),
    (
        "too_many",
        "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {} giây.",
        "too many attempts; try again in {} s",
    ),
    ("reason_required", "Cần nhập lý do.", "Give the reason."),
    (
        "date_range",
        "ngày {} nằm ngoài khoảng cho phép",
        "{} is out of range",
    ),
    // Identities and accounts.
    (
        "identity.personal_id",
        "Số định danh cá nhân phải gồm đúng 12 chữ số.",
        "a personal identification number has exactly 12 digits",
    ),
    (
        "identity.tax_code",
        "Mã số thuế gồm 10 chữ số (chi nhánh: 10 chữ số, dấu gạch ngang và 3 chữ số).",
        "a tax code has 10 digits, or 10-3 for a branch",
    ),
    (
        "identity.phone",
        "Số điện thoại không đúng: 10 chữ số bắt đầu bằng 0 (hoặc +84).",
        "The phone number is not valid: 10 digits starting with 0 (or +84).",
    ),
    (
        "identity.login_phone",
        "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0).",
        "The phone number is not valid (10 digits, starting with 0).",
    ),
    (
        "identity.email",
        "Thư điện tử không hợp lệ.",
        "The email address is not valid.",
    ),
    (
        "identity.username",
        "từ 3 đến 64 ký tự gồm chữ thường không dấu a-z, chữ số, dấu . _ -",
        "invalid username: 3–64 of a-z 0-9 . _ -",
    ),
    (
        "identity.password_short",
        "Mật khẩu cần ít nhất {} ký tự.",
        "The password needs at least {} characters.",
    ),
    (
        "identity.password_long",
        "Mật khẩu dài quá {} ký tự.",
        "The password is longer than {} characters.",
    ),
    // Agencies.
    ("agency.unknown", "không có cơ quan mã {}", "unknown agency {}"),
    // Procedures (the catalog).
    (
        "procedure.code",
        "không đúng dạng mã thủ tục d.dddddd (có thể thêm hậu tố, ví dụ 1.000948.H56): {}",
        "{} is not a procedure code d.dddddd (optionally .SUFFIX)",
    ),
    (
        "procedure.field",
        "cần nhập cả mã và tên lĩnh vực",
        "needs a code and a name",
    ),
    (
        "procedure.levels",
        "chọn ít nhất một cấp thực hiện",
        "at least one level",
    ),
    (
        "procedure.methods",
        "chọn ít nhất một cách thức thực hiện",
        "at least one method",
    ),
    (
        "procedure.full_online",
        "dịch vụ công trực tuyến toàn trình phải có cách thức “Trực tuyến”",
        "full online needs the online method",
    ),
    (
        "procedure.components",
        "cần ít nhất một thành phần hồ sơ",
        "at least one component",
    ),
    (
        "procedure.copies",
        "số bản chính và số bản sao không thể cùng bằng 0",
        "originals and copies cannot both be 0",
    ),
    (
        "procedure.form",
        "mẫu đơn cần có tên và tệp",
        "needs a name and a file",
    ),
    (
        "procedure.form_file",
        "tệp mẫu đơn chưa có trong hệ thống; nạp tệp bằng lệnh motcua import procedures",
        "upload the form file first (sha256:… reference)",
    ),
    (
        "procedure.time_limit",
        "không đúng dạng thời hạn, ví dụ 3 working-days, 4 working-hours, 15 days ({})",
        "not a time limit such as 3 working-days, 4 working-hours or 15 days ({})",
    ),
    (
        "procedure.cutoff",
        "nhập giờ dạng HH:MM, ví dụ 15:00 (đã nhập {})",
        "{} is not HH:MM",
    ),
    (
        "procedure.cases",
        "cần ít nhất một trường hợp giải quyết",
        "at least one case",
    ),
    (
        "procedure.case_code",
        "mã trường hợp {} chỉ gồm chữ thường không dấu, chữ số và dấu gạch ngang, ví dụ dung-han",
        "{}: lowercase letters, digits and dashes",
    ),
    (
        "procedure.case_twice",
        "mã trường hợp {} bị trùng",
        "{} appears twice",
    ),
    (
        "procedure.steps",
        "cần ít nhất một bước xử lý",
        "at least one step",
    ),
    (
        "procedure.first_step",
        "bước đầu tiên là bước tiếp nhận (vai trò công chức tiếp nhận)",
        "the first step is the receiving officer's",
    ),
    (
        "procedure.approver_step",
        "quy trình cần một bước ký duyệt kết quả (vai trò lãnh đạo ký duyệt)",
        "the workflow needs an approver's step to sign the result",
    ),
    (
        "procedure.result_step",
        "bước trả kết quả phải đứng sau bước ký duyệt",
        "the result officer's step comes after the approver's",
    ),
    (
        "procedure.quota",
        "nhập số ngày làm việc lớn hơn 0, tối đa 3 chữ số thập phân, ví dụ 0,5 (đã nhập {})",
        "{} must be a positive number of working days (at most 3 decimals)",
    ),
    (
        "procedure.quotas_over",
        "tổng thời gian các bước ({} ngày làm việc) vượt thời hạn giải quyết {}",
        "step quotas add up to {} working days, more than the limit {}",
    ),
    // Feedback and petitions.
    (
        "feedback.channel",
        "Phản ánh qua điện thoại hoặc bằng văn bản do công chức của cơ quan ghi nhận; hãy chọn “Trực tuyến”.",
        "Feedback by phone or in writing is recorded by the agency's officials; choose “Online”.",
    ),
    (
        "feedback.dossier_code",
        "Mã hồ sơ không đúng dạng: nhập đúng mã in trên Giấy tiếp nhận (ví dụ 000.00.01.H56-251128-0001), hoặc để trống.",
        "The dossier code is not valid: enter the code printed on the receipt (for example 000.00.01.H56-251128-0001), or leave it empty.",
    ),
    (
        "feedback.name",
        "Nhập họ và tên (tối đa {} ký tự).",
        "Enter your full name (at most {} characters).",
    ),
    (
        "feedback.contact",
        "Nhập số điện thoại hoặc thư điện tử để cơ quan gửi câu trả lời.",
        "Enter a phone number or email so that the agency can send its answer.",
    ),
    (
        "feedback.subject",
        "Nhập tiêu đề (tối đa {} ký tự).",
        "Enter a subject (at most {} characters).",
    ),
    (
        "feedback.content",
        "Nhập nội dung phản ánh, kiến nghị (tối đa {} ký tự).",
        "Enter your feedback or petition (at most {} characters).",
    ),
    (
        "feedback.answer_required",
        "Nhập nội dung trả lời.",
        "Enter the answer.",
    ),
    (
        "date_required",
        "{} là bắt buộc (dạng YYYY-MM-DD)",
        "{} is required (YYYY-MM-DD)",
    ),
    (
        "period.order",
        "Ngày kết thúc ({}) phải sau hoặc bằng ngày bắt đầu ({}).",
        "the period ends ({}) before it starts ({})",
    ),
    (
        "period.ten_years",
        "Mỗi báo cáo tối đa mười năm.",
        "a period covers at most ten years",
    ),
    ("import.line", "{}", "{}"),
    // Forms of the pages (what a form could not read).
    ("form.choose", "chọn trong danh sách", "choose from the list"),
    (
        "form.date",
        "nhập ngày dạng năm-tháng-ngày, ví dụ 2025-07-01",
        "enter a date as year-month-day, e.g. 2025-07-01",
    ),
    (
        "form.amount",
        "nhập số tiền bằng chữ số, ví dụ 200000",
        "enter the amount in digits, e.g. 200000",
    ),
    (
        "form.agency_rule",
        "nhập receiving, parent, child hoặc một mã cơ quan",
        "enter receiving, parent, child or an agency code",
    ),
    (
        "form.days",
        "nhập số ngày làm việc, ví dụ 0,5",
        "enter a number of working days, e.g. 0.5",
    ),
    (
        "form.count",
        "nhập một số nguyên không âm",
        "enter a whole number, 0 or more",
    ),
    // Signing in.
    (
        "auth.bearer_form",
        "Tiêu đề Authorization phải có dạng `Bearer TOKEN`.",
        "Authorization must be `Bearer TOKEN`",
    ),
    (
        "auth.token_invalid",
        "Mã truy cập không đúng, đã hết hạn hoặc đã bị thu hồi.",
        "invalid, expired or revoked token",
    ),
    (
        "auth.too_many",
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {} giây.",
        "too many failed sign-ins; try again in {} s",
    ),
    // Officers and their tokens.
    ("user.unknown", "không có người dùng {}", "unknown user {}"),
    (
        "user.taken",
        "đã có người dùng với tên đăng nhập này",
        "a user with this username already exists",
    ),
    (
        "user.password_required",
        "bắt buộc khi tạo người dùng mới",
        "required for a new user",
    ),
    ("user.role_unknown", "không có vai trò {}", "unknown role {}"),
    (
        "user.last_admin",
        "Đây là quản trị viên cuối cùng: không thể khóa tài khoản hoặc bỏ vai trò quản trị.",
        "this is the last administrator: the account cannot be disabled or lose the administrator role",
    ),
    (
        "user.disabled",
        "người dùng này đã bị khóa",
        "that user is disabled",
    ),
    ("user.choose_agency", "chọn cơ quan", "choose the agency"),
    ("user.choose_role", "chọn vai trò", "choose the role"),
    (
        "token.days",
        "số ngày hiệu lực phải từ 1 trở lên",
        "expires_in_days must be at least 1",
    ),
    ("token.not_found", "Không có mã truy cập này.", "no such token"),
    (
        "token.revoked",
        "Mã truy cập đã bị thu hồi trước đó.",
        "token already revoked",
    ),
    // Agencies.
    (
        "agency.code",
        "không đúng dạng mã cơ quan (ví dụ 000.00.06.H56): {}",
        "{} is not an agency code such as 000.00.06.H56",
    ),
    (
        "agency.code_taken",
        "đã có cơ quan với mã này; hãy sửa cơ quan đó thay vì thêm mới",
        "an agency with this code exists; edit it instead",
    ),
    (
        "agency.own_parent",
        "cơ quan không thể là cấp trên của chính nó",
        "an agency cannot be its own parent",
    ),
    (
        "agency.parent_below",
        "cơ quan cấp trên đã chọn lại trực thuộc chính cơ quan này",
        "that parent is inside this agency's own subtree",
    ),
    (
        "agency.office_hours",
        "giờ làm việc không đúng dạng, ví dụ 07:00-11:30,13:30-17:00 ({})",
        "office hours such as 07:00-11:30,13:30-17:00 ({})",
    ),
    // The catalog.
    (
        "procedure.unknown",
        "Không có thủ tục mã {} trong danh mục.",
        "unknown procedure {}",
    ),
    (
        "procedure.code_taken",
        "đã có thủ tục với mã này; hãy sửa thủ tục đó thay vì thêm mới",
        "a procedure with this code exists; edit it instead",
    ),
    // The calendar.
    (
        "calendar.instant",
        "thời điểm {} không đúng dạng RFC 3339, ví dụ 2026-09-01T10:00:00+07:00",
        "{} is not an RFC 3339 instant such as 2026-09-01T10:00:00+07:00",
    ),
    ("calendar.invalid", "lịch không hợp lệ: {}", "{}"),
    (
        "calendar.no_override",
        "Không có điều chỉnh lịch vào ngày {}.",
        "no override on {}",
    ),
    // Files.
    (
        "file.too_large",
        "Tệp lớn hơn {} MiB.",
        "files are limited to {} MiB",
    ),
    ("file.empty", "Tệp rỗng.", "the file is empty"),
    (
        "file.name",
        "tên tệp phải có từ 1 đến 200 ký tự",
        "filename must be 1–200 characters",
    ),
    (
        "file.scan_type",
        "Tệp không phải PDF, JPEG hoặc PNG (hệ thống kiểm tra theo nội dung tệp, không theo tên tệp).",
        "only PDF, JPEG or PNG files (checked by content)",
    ),
    (
        "file.form_type",
        "{} không phải loại tệp mẫu đơn (PDF, Word, ODF, HTML, văn bản)",
        "{} is not a form template type (PDF, Word, ODF, HTML, text)",
    ),
    (
        "file.not_pdf",
        "Nội dung tệp không phải PDF.",
        "the body is not a PDF",
    ),
    (
        "file.upload_first",
        "Tệp quét chưa có trong hệ thống; vui lòng chọn lại tệp.",
        "upload the file first (POST /api/v1/uploads)",
    ),
    // Dossiers: intake.
    ("dossier.not_found", "Không tìm thấy hồ sơ.", "no such dossier"),
    (
        "draft.not_found",
        "Không tìm thấy bản nháp hồ sơ này.",
        "no such draft",
    ),
    (
        "draft.not_online",
        "Thủ tục này không nhận hồ sơ trực tuyến.",
        "this procedure is not submitted online",
    ),
    (
        "draft.sign_in",
        "Đăng nhập để tiếp tục bản nháp của bạn.",
        "sign in to go on with your draft",
    ),
    (
        "draft.not_yours",
        "Chỉ dùng lại được tệp của chính bạn.",
        "only your own files may be reused",
    ),
    (
        "draft.section_missing",
        "Phần này chưa được điền.",
        "this section is not filled in yet",
    ),
    (
        "delivery.method",
        "Chọn cách nhận kết quả: tại bộ phận một cửa, qua bưu chính hoặc trực tuyến.",
        "delivery method must be desk, post or electronic",
    ),
    (
        "delivery.address",
        "Nhập địa chỉ nhận kết quả qua bưu chính (tối đa {} ký tự).",
        "a postal delivery needs an address (at most {} characters)",
    ),
    (
        "store.not_found",
        "Không có tệp này trong kho dữ liệu của bạn.",
        "no such file in your data store",
    ),
    (
        "notify.channels",
        "Chọn cách nhận thông báo: SMS và thư điện tử, chỉ SMS hoặc chỉ thư điện tử.",
        "notify must be all, sms or email",
    ),
    (
        "notify.needs_phone",
        "Bạn chọn nhận thông báo qua SMS: hãy khai số điện thoại ở phần người nộp.",
        "notices by SMS need the applicant's phone",
    ),
    (
        "notify.needs_email",
        "Bạn chọn nhận thông báo qua thư điện tử: hãy khai địa chỉ thư điện tử ở phần người nộp.",
        "notices by e-mail need the applicant's e-mail address",
    ),
    (
        "dossier.channel",
        "Chọn kênh tiếp nhận: trực tiếp, qua bưu chính hoặc trực tuyến.",
        "unknown channel: expected direct, online or postal",
    ),
    (
        "dossier.receive_forbidden",
        "Chỉ công chức tiếp nhận của cơ quan {} mới tiếp nhận hồ sơ của cơ quan này.",
        "only a receiving officer of {} may receive its dossiers",
    ),
    (
        "dossier.desk_only",
        "Chỉ công chức tiếp nhận được nhận hồ sơ trực tiếp hoặc qua bưu chính.",
        "only officers receive dossiers at the desk",
    ),
    (
        "dossier.agency_procedure",
        "Cơ quan {} không thực hiện thủ tục {}.",
        "{} does not implement procedure {}",
    ),
    (
        "dossier.case_unknown",
        "Thủ tục {} không có trường hợp {}.",
        "procedure {} has no case {}",
    ),
    (
        "dossier.applicant_name",
        "Nhập họ và tên công dân hoặc tên tổ chức (tối đa {} ký tự).",
        "the applicant's name is required (at most {} characters)",
    ),
    (
        "dossier.applicant_kind",
        "Chọn người nộp là công dân hay tổ chức.",
        "expected person or organisation",
    ),
    (
        "dossier.online_contact",
        "Hồ sơ trực tuyến cần số điện thoại hoặc thư điện tử để nhận thông báo.",
        "an online dossier needs a phone or an e-mail for notices",
    ),
    (
        "dossier.component_index",
        "thủ tục chỉ có {} thành phần hồ sơ",
        "the procedure has {} components",
    ),
    (
        "dossier.components_missing",
        "Thiếu thành phần hồ sơ bắt buộc ({}).",
        "A required document is missing ({}).",
    ),
    (
        "dossier.incomplete_at_desk",
        "Hồ sơ chưa đủ thành phần bắt buộc nên chưa được tiếp nhận; hướng dẫn người nộp bổ sung, hoàn thiện (Mẫu 02). Còn thiếu: {}.",
        "an incomplete dossier is not received (give guidance, Form 02); missing: {}",
    ),
    // Dossiers: actions.
    (
        "dossier.officers_only",
        "Công dân không thực hiện được “{}”.",
        "{} is for officers",
    ),
    (
        "dossier.changed",
        "Hồ sơ vừa được người khác xử lý trước bạn (bạn xem phiên bản {}, nay là {}), nên thao tác chưa được thực hiện. Trang đã hiển thị tình trạng mới nhất; hãy kiểm tra lại rồi thao tác nếu vẫn cần.",
        "the dossier changed since you opened it (you saw version {}, it is now {}); reload it",
    ),
    (
        "dossier.not_yours",
        "Bạn không có quyền thực hiện “{}” đối với hồ sơ này ở bước hiện tại.",
        "{} is not yours to take on this dossier now",
    ),
    (
        "dossier.illegal",
        "Không thể thực hiện “{}” khi hồ sơ đang ở trạng thái “{}”.",
        "“{}” is not allowed while the dossier is “{}”",
    ),
    (
        "dossier.reason_refuse",
        "Cần nhập lý do từ chối tiếp nhận (in trên Mẫu 03).",
        "Give the reason for refusing (printed on Form 03).",
    ),
    (
        "dossier.reason_supplement",
        "Cần nhập lý do, nội dung cần bổ sung, hoàn thiện (in trên Mẫu 02).",
        "Say what must be supplemented (printed on Form 02).",
    ),
    (
        "dossier.reason_reschedule",
        "Cần nhập lý do chậm trả kết quả và lời xin lỗi (in trên Mẫu 04).",
        "Give the reason for the delay and the apology (printed on Form 04).",
    ),
    (
        "dossier.reason_withdraw",
        "Cần nhập lý do rút hồ sơ.",
        "Give the reason for withdrawing.",
    ),
    (
        "dossier.reason_stop",
        "Cần nhập lý do dừng giải quyết (in trên Mẫu 05).",
        "Give the reason for stopping (printed on Form 05).",
    ),
    (
        "dossier.supplement_limit",
        "Hồ sơ đã được yêu cầu bổ sung {} lần sau khi tiếp nhận; không được yêu cầu bổ sung thêm.",
        "the dossier already had {} supplement request(s) after receipt; no more are allowed",
    ),
    (
        "dossier.rescheduled_once",
        "Hồ sơ đã được hẹn lại ngày trả một lần; không được hẹn lại lần nữa.",
        "the appointment was already rescheduled once",
    ),
    (
        "dossier.reschedule_late",
        "Chỉ được hẹn lại ngày trả khi còn ít nhất 1 ngày làm việc trước hạn.",
        "rescheduling must happen at least 1 working day before the due date",
    ),
    (
        "dossier.reschedule_not_later",
        "Ngày hẹn trả mới phải sau ngày hẹn hiện tại.",
        "the new appointment must be later than the current one",
    ),
    (
        "dossier.new_due_required",
        "Nhập ngày giờ hẹn trả mới.",
        "give the new appointment",
    ),
    (
        "dossier.new_due_format",
        "Ngày giờ hẹn trả mới không hợp lệ.",
        "expected RFC 3339, e.g. 2026-12-01T16:00:00+07:00",
    ),
    (
        "dossier.no_open_step",
        "Hồ sơ không có bước nào đang xử lý.",
        "there is no open step",
    ),
    (
        "dossier.last_step",
        "Đây là bước cuối: hãy phê duyệt hoặc trả kết quả.",
        "this is the last step: approve or return the result instead",
    ),
    (
        "dossier.step_ends_by",
        "Bước này kết thúc bằng thao tác “{}”.",
        "this step ends by “{}”",
    ),
    (
        "dossier.choose_agency",
        "Chọn cơ quan xử lý bước “{}”.",
        "choose the agency for step “{}”",
    ),
    (
        "dossier.not_child",
        "Cơ quan {} không phải cơ quan cấp dưới của cơ quan xử lý bước trước.",
        "{} is not a child agency of the previous step's",
    ),
    (
        "dossier.assignee_required",
        "Chọn người thụ lý.",
        "choose the specialist to assign",
    ),
    (
        "dossier.assignee_role",
        "Người được chọn ({}) không giữ vai trò {} tại cơ quan này.",
        "{} does not hold the {} role in that agency",
    ),
    (
        "dossier.result_required",
        "Đính kèm văn bản kết quả đã ký (PDF, JPEG hoặc PNG).",
        "attach the signed result document",
    ),
    (
        "dossier.return_method",
        "Chọn hình thức trả kết quả.",
        "desk, post or electronic",
    ),
    // Dossiers: lists.
    (
        "dossier.inbox",
        "Không có hộp hồ sơ {}.",
        "unknown inbox {}: mine, unit, overdue, due_soon, queue",
    ),
    (
        "dossier.status_unknown",
        "Không có trạng thái hồ sơ {}.",
        "unknown dossier status {}",
    ),
    (
        "dossier.agency_not_yours",
        "Bạn không được xem hồ sơ của cơ quan này.",
        "that agency's dossiers are not yours to see",
    ),
    // Dossiers: the citizen's own.
    (
        "dossier.no_result",
        "Hồ sơ chưa có kết quả điện tử.",
        "the dossier has no electronic result",
    ),
    (
        "dossier.rate_finished",
        "Chỉ đánh giá được hồ sơ đã giải quyết xong.",
        "Only finished dossiers can be rated.",
    ),
    (
        "dossier.answer_all",
        "Vui lòng trả lời cả ba câu hỏi.",
        "Answer every question.",
    ),
    (
        "dossier.choose_satisfaction",
        "Chọn mức độ hài lòng.",
        "Choose how satisfied you are.",
    ),
    (
        "dossier.already_rated",
        "Hồ sơ này đã được đánh giá.",
        "This dossier has already been rated.",
    ),
    (
        "payment.none",
        "Khoản thanh toán không tồn tại hoặc đã được thanh toán.",
        "This payment does not exist or has already been paid.",
    ),
    (
        "payment.no_gateway",
        "Hệ thống chưa kết nối cổng thanh toán trực tuyến.",
        "No payment gateway is connected.",
    ),
    (
        "payment.no_order",
        "Không tìm thấy giao dịch thanh toán này.",
        "No such payment order.",
    ),
    (
        "payment.expired",
        "Giao dịch thanh toán đã hết hạn. Vui lòng quay lại trang hồ sơ và bấm thanh toán lại.",
        "This payment order has expired. Go back to the dossier and pay again.",
    ),
    (
        "payment.busy",
        "Giao dịch đang được xử lý đồng thời. Vui lòng thử lại.",
        "This payment is being settled at the same time; try again.",
    ),
    (
        "payment.bad_return",
        "Kết quả thanh toán nhận được không hợp lệ (sai chữ ký hoặc thiếu thông tin). Nếu đã bị trừ tiền, vui lòng liên hệ bộ phận một cửa để được đối soát.",
        "The payment result received is not valid (wrong signature or missing fields). If you were charged, contact the one-stop desk.",
    ),
    (
        "payment.no_receipt",
        "Không tìm thấy biên lai: hồ sơ chưa thanh toán phí, lệ phí hoặc bạn không có quyền xem.",
        "No receipt: the fee of this dossier is not paid, or it is not yours to see.",
    ),
    // The public lookup.
    (
        "lookup.not_found",
        "Không tìm thấy hồ sơ với mã và 4 chữ số này. Kiểm tra lại mã trên Giấy tiếp nhận và 4 số cuối của số điện thoại hoặc số định danh.",
        "No dossier with this code and these 4 digits. Check the code on your receipt and the last 4 digits of the phone number or ID number.",
    ),
    (
        "lookup.verify",
        "Nhập đúng 4 chữ số cuối của số điện thoại hoặc số định danh cá nhân.",
        "verify must be the last 4 digits of the applicant's phone or ID number",
    ),
    (
        "lookup.code_empty",
        "Nhập mã hồ sơ: in trên Giấy tiếp nhận và trong tin nhắn báo tiếp nhận.",
        "Enter the dossier code: it is printed on your receipt and in the text message.",
    ),
    (
        "lookup.code_format",
        "Mã hồ sơ không đúng dạng. Mã có dạng 000.00.01.H56-261207-0001 (mã cơ quan - ngày - số thứ tự).",
        "This is not a dossier code. A code looks like 000.00.01.H56-261207-0001 (agency - date - number).",
    ),
    (
        "lookup.too_many",
        "Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau {} phút.",
        "Too many lookups. Please try again in {} minute.|Too many lookups. Please try again in {} minutes.",
    ),
    (
        "result.code_format",
        "Nhập mã xác thực in trên kết quả (16 ký tự, ví dụ A1B2-C3D4-E5F6-0789).",
        "type the verification code printed with the result (16 characters, e.g. A1B2-C3D4-E5F6-0789)",
    ),
    // Citizens' accounts.
    (
        "citizen.full_name",
        "Nhập họ và tên (tối đa {} ký tự).",
        "Enter your full name (at most {} characters).",
    ),
    (
        "citizen.login_taken",
        "Số điện thoại hoặc thư điện tử này đã có tài khoản. Hãy đăng nhập hoặc lấy lại mật khẩu.",
        "This phone number or email already has an account. Sign in or reset the password.",
    ),
    (
        "citizen.wrong_code",
        "Mã không đúng hoặc đã hết hạn. Bạn có thể yêu cầu gửi lại mã.",
        "The code is wrong or has expired. You can ask for a new code.",
    ),
    (
        "citizen.wrong_password",
        "Tài khoản hoặc mật khẩu không đúng.",
        "Wrong account or password.",
    ),
    (
        "citizen.not_verified",
        "Tài khoản chưa được xác thực. Nhập mã đã gửi tới bạn.",
        "The account is not confirmed yet. Enter the code we sent you.",
    ),
    (
        "citizen.too_many",
        "Thao tác quá nhiều lần. Vui lòng thử lại sau {} phút.",
        "Too many attempts. Please try again in {} minute.|Too many attempts. Please try again in {} minutes.",
    ),
    // Feedback and petitions (officers).
    (
        "feedback.not_found",
        "Không tìm thấy phản ánh, kiến nghị.",
        "no such feedback",
    ),
    (
        "feedback.agency",
        "Chọn cơ quan được phản ánh, kiến nghị.",
        "Choose the agency concerned.",
    ),
    (
        "feedback.officers_only",
        "Chỉ công chức của cơ quan {} được ghi nhận phản ánh qua điện thoại hoặc bằng văn bản.",
        "only an officer of {} enters written or phone feedback for it",
    ),
    (
        "feedback.too_many",
        "Địa chỉ mạng của bạn đã gửi quá nhiều phản ánh, kiến nghị. Vui lòng thử lại sau {} phút.",
        "Your network address has sent too much feedback. Please try again in {} minute.|Your network address has sent too much feedback. Please try again in {} minutes.",
    ),
    (
        "feedback.act_forbidden",
        "Chỉ công chức của cơ quan {} (đang giữ phản ánh, kiến nghị) được thực hiện thao tác này.",
        "only officers of {} act on this feedback; administrators and supervisors read it",
    ),
    (
        "feedback.changed",
        "Phản ánh, kiến nghị vừa được người khác cập nhật (bạn xem phiên bản {}, nay là {}). Trang đã tải lại dữ liệu mới; vui lòng kiểm tra rồi thực hiện lại.",
        "the feedback changed since you saw it (version {}, now {}); reload it",
    ),
    (
        "feedback.illegal",
        "Không thể “{}” ở trạng thái “{}”. Các thao tác được phép hiện ra bên dưới.",
        "cannot {} a feedback that is {}",
    ),
    (
        "feedback.category",
        "Chọn loại phản ánh, kiến nghị.",
        "choose regulation or handling",
    ),
    (
        "feedback.to_agency",
        "Chọn cơ quan có thẩm quyền để chuyển.",
        "choose the competent agency to forward to",
    ),
    (
        "feedback.same_agency",
        "Phản ánh, kiến nghị đang ở cơ quan này; chọn cơ quan khác.",
        "the feedback is already at this agency",
    ),
    // Reports and evaluation.
    (
        "report.by",
        "Không có cách nhóm {}: chọn lĩnh vực, thủ tục hoặc cơ quan.",
        "by must be field, procedure or agency, not {}",
    ),
    (
        "evaluation.by",
        "Không có cách nhóm {}: chọn cán bộ, cơ quan hoặc thủ tục.",
        "by must be officer, agency or procedure, not {}",
    ),
    ("evaluation.scales", "Thang điểm không hợp lệ: {}", "{}"),
    // Dossiers pushed by the national portal (Cổng DVCQG).
    (
        "dvcqg.portal_id",
        "Mã hồ sơ trên Cổng DVCQG phải có từ 1 đến {} ký tự ASCII in được.",
        "portal_id must be 1 to {} printable ASCII characters",
    ),
    (
        "dvcqg.not_online",
        "Thủ tục {} không tiếp nhận hồ sơ trực tuyến.",
        "procedure {} is not offered online",
    ),
    (
        "dvcqg.document_twice",
        "Thành phần hồ sơ này đã có một tệp khác trong hồ sơ.",
        "another document is given for the same component",
    ),
    (
        "dvcqg.document_url",
        "Đường dẫn tải tệp phải là địa chỉ http://MÁY-CHỦ/….",
        "url must be an http://HOST/… address",
    ),
    (
        "dvcqg.document_size",
        "Kích thước tệp phải từ 1 byte đến {} MB.",
        "size must be 1 byte to {} MB",
    ),
    (
        "dvcqg.document_sha256",
        "Mã băm SHA-256 của tệp phải gồm 64 chữ số thập lục phân.",
        "sha256 must be 64 hexadecimal digits",
    ),
    (
        "dvcqg.attachment_status",
        "Máy chủ tệp trả lời mã {} khi tải {}.",
        "the file server answered {} for {}",
    ),
    (
        "dvcqg.attachment_mismatch",
        "Tệp tải về từ {} không khớp với kích thước và mã băm đã khai ({}).",
        "the file fetched from {} is not the one declared ({})",
    ),
    (
        "dvcqg.fetch_later",
        "Chưa tải được tệp đính kèm từ {} ({}); hồ sơ chưa được tạo, vui lòng gửi lại sau.",
        "a document could not be fetched from {} now ({}); nothing was created: push the dossier again later",
    ),
    // National-identity sign-in (VNeID).
    (
        "vneid.state",
        "Phiên đăng nhập bằng VNeID không hợp lệ hoặc đã hết hạn. Vui lòng bấm “Đăng nhập bằng VNeID” để đăng nhập lại.",
        "This VNeID sign-in is not valid or has expired. Please choose “Sign in with VNeID” again.",
    ),
    (
        "vneid.denied",
        "Bạn đã không hoàn tất đăng nhập trên VNeID. Vui lòng đăng nhập lại.",
        "The sign-in was not completed on VNeID. Please sign in again.",
    ),
    (
        "vneid.code",
        "VNeID không xác nhận lần đăng nhập này (mã xác thực đã dùng hoặc hết hạn). Vui lòng đăng nhập lại.",
        "VNeID did not confirm this sign-in (the authorization code was used already or has expired). Please sign in again.",
    ),
    (
        "vneid.token",
        "Thông tin định danh nhận từ VNeID không hợp lệ (chữ ký, nơi cấp, đối tượng hoặc thời hạn không đúng). Chưa có tài khoản nào được tạo; vui lòng đăng nhập lại.",
        "The identity received from VNeID is not valid (its signature, issuer, audience or validity is wrong). No account was created; please sign in again.",
    ),
    (
        "vneid.no_id",
        "VNeID không cung cấp số định danh cá nhân hợp lệ (12 chữ số) nên không thể đăng nhập.",
        "VNeID did not give a valid personal identification number (12 digits), so you cannot be signed in.",
    ),
    (
        "vneid.no_contact",
        "Tài khoản VNeID chưa có số điện thoại hoặc thư điện tử. Hãy đăng ký tài khoản bằng số điện thoại hoặc thư điện tử, đăng nhập rồi liên kết với VNeID.",
        "Your VNeID account has no phone number or e-mail. Register with a phone number or e-mail, sign in, then link it to VNeID.",
    ),
    (
        "vneid.linked_elsewhere",
        "Số định danh cá nhân này hoặc tài khoản này đã được liên kết với một tài khoản khác.",
        "This personal identification number or this account is linked to another one already.",
    ),
    (
        "vneid.login_linked_elsewhere",
        "Số điện thoại hoặc thư điện tử VNeID cung cấp thuộc một tài khoản đã liên kết với số định danh khác. Vui lòng liên hệ bộ phận một cửa.",
        "The phone number or e-mail VNeID gave belongs to an account linked to another identification number. Please contact the one-stop desk.",
    ),
    ("vneid.wrong_password", "Mật khẩu không đúng.", "Wrong password."),
    (
        "vneid.down",
        "Không kết nối được với hệ thống định danh điện tử VNeID. Chưa có tài khoản hay phiên đăng nhập nào được tạo. Vui lòng thử lại sau ít phút, hoặc đăng nhập bằng số điện thoại hay thư điện tử.",
        "The VNeID national identity system cannot be reached. No account or session was created. Please try again in a few minutes, or sign in with your phone number or e-mail.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    fn placeholders(s: &str) -> usize {
        s.matches("{}").count()
    }

    #[test]
    fn every_code_is_said_once_in_both_languages_with_the_same_placeholders() {
        let mut seen = HashSet::new();
        for (code, vi, en) in TEXTS {
            assert!(seen.insert(*code), "{code} twice");
            assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{code}");
            let en = en.split('|').next().unwrap_or(en);
            assert_eq!(placeholders(vi), placeholders(en), "{code}");
        }
    }

    #[test]
    fn labels_are_said_in_the_language_of_the_message() {
        let m = msg!("dossier.illegal", label("Trả kết quả", "Return the result"), "x");
        assert!(m.vi().contains("“Trả kết quả”"), "{}", m.vi());
        assert!(m.en().contains("“Return the result”"), "{}", m.en());
    }

    #[test]
    fn numbers_are_grouped_as_each_language_writes_them() {
        let m = msg!("feedback.content", number(5000));
        assert!(m.vi().contains("5.000"), "{}", m.vi());
        assert!(m.en().contains("5,000"), "{}", m.en());
        assert!(msg!("too_long", number(200)).en().contains(" 200 "));
    }

    #[test]
    fn messages_fill_their_values_in_order() {
        let m = msg!("length", 3, 64);
        assert_eq!(m.en(), "must be 3–64 characters");
        assert_eq!(m.vi(), "phải có từ 3 đến 64 ký tự");
        assert_eq!(
            Msg {
                code: "no.such.code",
                args: vec![]
            }
            .vi(),
            "no.such.code"
        );
    }

    /// The literal code and the number of values of every `msg!(…)` in the sources.
    fn uses_in(text: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("msg!(\"") {
            // Not in a comment (the docs show the macro).
            let line_start = rest[..i].rfind('\n').map_or(0, |n| n + 1);
            let in_comment = rest[line_start..i].trim_start().starts_with("//");
            rest = &rest[i + 6..];
            if in_comment {
                continue;
            }
            let Some(end) = rest.find('"') else { break };
            let code = rest[..end].to_string();
            // Count the values: top-level commas up to the closing parenthesis.
            let (mut depth, mut args, mut in_str, mut prev) = (0i32, 0usize, false, ' ');
            let mut trailing = false;
            for c in rest[end + 1..].chars() {
                if in_str {
                    if c == '"' && prev != '\\' {
                        in_str = false;
                    }
                } else {
                    match c {
                        '"' => in_str = true,
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' if depth == 0 => break,
                        ')' | ']' | '}' => depth -= 1,
                        ',' if depth == 0 => {
                            args += 1;
                            trailing = true;
                            prev = c;
                            continue;
                        }
                        c if !c.is_whitespace() => trailing = false,
                        _ => {}
                    }
                }
                if !c.is_whitespace() && c != ',' {
                    trailing = false;
                }
                prev = c;
            }
            if trailing {
                args -= 1;
            }
            out.push((code, args));
        }
        out
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("target") {
                    rust_files(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_message_the_code_gives_has_its_texts() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        rust_files(&crates, &mut files);
        assert!(files.len() > 20, "sources found under {}", crates.display());
        let mut used = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for (code, args) in uses_in(&text) {
                let Some((vi, _)) = lookup(&code) else {
                    panic!("{}: msg!(\"{code}\") has no texts in msg::TEXTS", f.display());
                };
                assert_eq!(
                    placeholders(vi),
                    args,
                    "{}: msg!(\"{code}\") gives {args} value(s) for {} placeholder(s)",
                    f.display(),
                    placeholders(vi)
                );
                used += 1;
            }
        }
        assert!(used > 0);
    }
}
