//! What a citizen is told (SMS or e-mail, through the outbox) when their dossier moves, and
//! the one-time codes of their account: every text in one place, in Vietnamese, each carrying
//! what the pages promised — the code, the due date, where to look it up, what to supplement
//! and by when, where and how the result is collected.

use crate::calendar::to_local;
use crate::dossier::{ReturnMethod, Status};
use chrono::{DateTime, Utc};

/// What a dossier's notice is made of.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// The dossier's code, or its online reference before it has one.
    pub key: &'a str,
    pub procedure: &'a str,
    /// The receiving agency's name.
    pub agency: &'a str,
    /// Where its one-stop desk is (may be empty).
    pub agency_address: &'a str,
    pub due_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
    /// The officer's note of the move: what to supplement, why refused or stopped.
    pub note: &'a str,
    /// The date a requested supplement is expected by.
    pub supplement_by: Option<DateTime<Utc>>,
    /// How the applicant asked for the result.
    pub delivery: Option<ReturnMethod>,
    /// The address of the public lookup for this dossier (absolute when the site's address
    /// is known).
    pub lookup: &'a str,
}

/// A date and time as the notices write them: `16:30 12/12/2026` (legal time).
pub fn when(t: DateTime<Utc>) -> String {
    to_local(t).format("%H:%M %d/%m/%Y").to_string()
}

/// The notice of a dossier that has just reached `status`.
pub fn dossier_notice(status: Status, f: &Facts) -> String {
    let opt = |t: Option<DateTime<Utc>>| t.map(when).unwrap_or_else(|| "—".into());
    let look = format!("Tra cứu: {}", f.lookup);
    let desk = if f.agency_address.is_empty() {
        format!("Bộ phận một cửa {}", f.agency)
    } else {
        format!("Bộ phận một cửa {}, {}", f.agency, f.agency_address)
    };
    match status {
        Status::Submitted => format!(
            "Hồ sơ {} đã được gửi trực tuyến, số tham chiếu {}. Cơ quan kiểm tra, tiếp nhận trước {}. {look}",
            f.procedure,
            f.key,
            opt(f.accept_due_at)
        ),
        Status::Received => format!(
            "Hồ sơ {} ({}) đã được tiếp nhận. Hẹn trả kết quả: {}. {look}",
            f.key,
            f.procedure,
            opt(f.due_at)
        ),
        Status::Processing => format!(
            "Hồ sơ {} đang được xử lý, hẹn trả {}. {look}",
            f.key,
            opt(f.due_at)
        ),
        Status::AwaitingSupplement => {
            let by = f
                .supplement_by
                .map(|t| format!(" trước {}", when(t)))
                .unwrap_or_default();
            format!(
                "Hồ sơ {} cần bổ sung: {}. Vui lòng nộp bổ sung{by} tại {desk} hoặc trực tuyến tại mục Hồ sơ của tôi. {look}",
                f.key,
                f.note.trim_end_matches('.')
            )
        }
        Status::AwaitingPayment => format!(
            "Hồ sơ {} chờ thực hiện nghĩa vụ tài chính: {}. {look}",
            f.key,
            f.note.trim_end_matches('.')
        ),
        Status::Refused => format!(
            "Hồ sơ {} không được tiếp nhận: {}. {look}",
            f.key,
            f.note.trim_end_matches('.')
        ),
        Status::Stopped => format!(
            "Hồ sơ {} đã dừng xử lý: {}. {look}",
            f.key,
            f.note.trim_end_matches('.')
        ),
        Status::Withdrawn => format!("Hồ sơ {} đã được rút theo đề nghị của bạn. {look}", f.key),
        Status::Resolved => {
            let collect = match f.delivery {
                Some(ReturnMethod::Post) => "Kết quả được gửi qua dịch vụ bưu chính công ích.".to_string(),
                Some(ReturnMethod::Electronic) => "Tải kết quả điện tử tại mục Hồ sơ của tôi.".to_string(),
                _ => format!("Mời nhận kết quả tại {desk}, mang theo Giấy tiếp nhận và hẹn trả kết quả."),
            };
            format!("Hồ sơ {} đã có kết quả. {collect} {look}", f.key)
        }
        Status::Returned => format!(
            "Hồ sơ {} đã trả kết quả. Mời bạn đánh giá mức độ hài lòng. {look}",
            f.key
        ),
    }
}

/// The notice of a reschedule: the new appointment.
pub fn rescheduled(f: &Facts) -> String {
    format!(
        "Hồ sơ {}: cơ quan xin lỗi vì chậm trả kết quả; hẹn trả mới: {}. Tra cứu: {}",
        f.key,
        f.due_at.map(when).unwrap_or_else(|| "—".into()),
        f.lookup
    )
}

/// A one-time code's message: what it is for, how long it lasts, not to share it.
pub fn one_time_code(purpose_vi: &str, code: &str, minutes: i64) -> String {
    format!("Mã {purpose_vi} motcua: {code}. Mã có hiệu lực {minutes} phút. Không chia sẻ mã này cho ai.")
}

/// Where a dossier's notices go, as the applicant chose: by default to every contact they
/// gave (phone by SMS, e-mail address by mail); or only one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Channels {
    #[default]
    All,
    Sms,
    Email,
}

impl Channels {
    pub const ALL: [Channels; 3] = [Channels::All, Channels::Sms, Channels::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channels::All => "all",
            Channels::Sms => "sms",
            Channels::Email => "email",
        }
    }

    /// The (phone, e-mail) a notice goes to, of the contacts given.
    pub fn recipients<'a>(self, phone: &'a str, email: &'a str) -> (&'a str, &'a str) {
        match self {
            Channels::All => (phone, email),
            Channels::Sms => (phone, ""),
            Channels::Email => ("", email),
        }
    }

    /// Which contact the choice needs and lacks: `Some("phone")`/`Some("email")`.
    pub fn missing(self, phone: &str, email: &str) -> Option<&'static str> {
        match self {
            Channels::Sms if phone.trim().is_empty() => Some("phone"),
            Channels::Email if email.trim().is_empty() => Some("email"),
            _ => None,
        }
    }
}

impl std::str::FromStr for Channels {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Channels::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> Facts<'static> {
        Facts {
            key: "000.30.01.H56-261207-0001",
            procedure: "Đăng ký khai sinh",
            agency: "UBND phường Yên Bái",
            agency_address: "1 Đinh Tiên Hoàng",
            due_at: Some(Utc.with_ymd_and_hms(2026, 12, 9, 9, 30, 0).unwrap()),
            accept_due_at: None,
            note: "Ảnh giấy chứng sinh bị mờ.",
            supplement_by: Some(Utc.with_ymd_and_hms(2026, 12, 21, 10, 0, 0).unwrap()),
            delivery: None,
            lookup: "https://motcua.example/tra-cuu?ma=000.30.01.H56-261207-0001",
        }
    }

    #[test]
    fn each_notice_says_what_the_pages_promised() {
        let f = facts();
        let received = dossier_notice(Status::Received, &f);
        assert!(
            received.contains(f.key) && received.contains("16:30 09/12/2026") && received.contains(f.lookup),
            "{received}"
        );
        let supplement = dossier_notice(Status::AwaitingSupplement, &f);
        assert!(
            supplement.contains("Ảnh giấy chứng sinh bị mờ")
                && supplement.contains("trước 17:00 21/12/2026")
                && supplement.contains("1 Đinh Tiên Hoàng"),
            "{supplement}"
        );
        let ready = dossier_notice(Status::Resolved, &f);
        assert!(
            ready.contains("Mời nhận kết quả tại Bộ phận một cửa UBND phường Yên Bái, 1 Đinh Tiên Hoàng"),
            "{ready}"
        );
        let by_post = dossier_notice(
            Status::Resolved,
            &Facts {
                delivery: Some(ReturnMethod::Post),
                ..f.clone()
            },
        );
        assert!(
            by_post.contains("bưu chính") && !by_post.contains("Mời nhận"),
            "{by_post}"
        );
        let online = dossier_notice(
            Status::Submitted,
            &Facts {
                key: "online-7",
                accept_due_at: f.due_at,
                ..f.clone()
            },
        );
        assert!(
            online.contains("số tham chiếu online-7") && online.contains("16:30 09/12/2026"),
            "{online}"
        );
        for s in Status::ALL {
            let text = dossier_notice(s, &f);
            assert!(text.contains(f.lookup), "{s:?}: {text}");
            assert!(!text.contains(".."), "{s:?}: {text}");
        }
        assert!(rescheduled(&f).contains("hẹn trả mới: 16:30 09/12/2026"));
        assert_eq!(
            one_time_code("xác thực tài khoản", "123456", 10),
            "Mã xác thực tài khoản motcua: 123456. Mã có hiệu lực 10 phút. Không chia sẻ mã này cho ai."
        );
    }

    #[test]
    fn channels_pick_the_contacts_and_say_what_they_lack() {
        assert_eq!(Channels::All.recipients("0912", "a@b.vn"), ("0912", "a@b.vn"));
        assert_eq!(Channels::Sms.recipients("0912", "a@b.vn"), ("0912", ""));
        assert_eq!(Channels::Email.recipients("0912", "a@b.vn"), ("", "a@b.vn"));
        assert_eq!(Channels::Sms.missing("", "a@b.vn"), Some("phone"));
        assert_eq!(Channels::Email.missing("0912", " "), Some("email"));
        assert_eq!(Channels::All.missing("", ""), None);
        for c in Channels::ALL {
            assert_eq!(c.as_str().parse::<Channels>(), Ok(c));
        }
        assert!("fax".parse::<Channels>().is_err());
    }
}
