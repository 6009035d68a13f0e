//! The dossier (*hồ sơ*): statuses with their DVCQG numbers, channels, the record and its
//! steps (`record`), the transition table (`machine`), what an action does and who may take it
//! (`decide`) and the hash chain of events (`chain`).
//! Nothing here touches storage.

pub mod chain;
pub mod decide;
pub mod machine;
pub mod record;

pub use record::{ApplicantKind, Component, ComponentKind, Dossier, PaymentStatus, ReturnMethod, Step};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Dossier status; the numbers are DVCQG's and are kept for sync (DOMAIN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Received,
    Refused,
    Processing,
    AwaitingSupplement,
    AwaitingPayment,
    Withdrawn,
    Stopped,
    Resolved,
    Returned,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Received,
        Status::Refused,
        Status::Processing,
        Status::AwaitingSupplement,
        Status::AwaitingPayment,
        Status::Withdrawn,
        Status::Stopped,
        Status::Resolved,
        Status::Returned,
    ];

    /// The DVCQG status number (1–10).
    pub fn number(self) -> u8 {
        match self {
            Status::Submitted => 1,
            Status::Received => 2,
            Status::Refused => 3,
            Status::Processing => 4,
            Status::AwaitingSupplement => 5,
            Status::AwaitingPayment => 6,
            Status::Withdrawn => 7,
            Status::Stopped => 8,
            Status::Resolved => 9,
            Status::Returned => 10,
        }
    }

    pub fn from_number(n: i64) -> Option<Status> {
        Status::ALL.into_iter().find(|s| i64::from(s.number()) == n)
    }

    /// Our identifier (snake_case), as stored and as shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Received => "received",
            Status::Refused => "refused",
            Status::Processing => "processing",
            Status::AwaitingSupplement => "awaiting_supplement",
            Status::AwaitingPayment => "awaiting_payment",
            Status::Withdrawn => "withdrawn",
            Status::Stopped => "stopped",
            Status::Resolved => "resolved",
            Status::Returned => "returned",
        }
    }

    /// The label in a language.
    pub fn label(self, lang: crate::msg::Lang) -> &'static str {
        match lang {
            crate::msg::Lang::Vi => self.label_vi(),
            crate::msg::Lang::En => self.label_en(),
        }
    }

    /// The label as a value of a message (`msg::label`), said in the message's language.
    pub fn label_arg(self) -> String {
        crate::msg::label(self.label_vi(), self.label_en())
    }

    /// English label for pages.
    pub fn label_en(self) -> &'static str {
        match self {
            Status::Submitted => "Submitted online",
            Status::Received => "Received",
            Status::Refused => "Not accepted",
            Status::Processing => "Being processed",
            Status::AwaitingSupplement => "Awaiting additional documents",
            Status::AwaitingPayment => "Awaiting payment of fees",
            Status::Withdrawn => "Withdrawn",
            Status::Stopped => "Processing stopped",
            Status::Resolved => "Result ready",
            Status::Returned => "Result returned",
        }
    }

    /// Vietnamese label for pages.
    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Submitted => "Mới nộp trực tuyến",
            Status::Received => "Đã tiếp nhận",
            Status::Refused => "Từ chối tiếp nhận",
            Status::Processing => "Đang xử lý",
            Status::AwaitingSupplement => "Chờ bổ sung",
            Status::AwaitingPayment => "Chờ thực hiện nghĩa vụ tài chính",
            Status::Withdrawn => "Đã rút hồ sơ",
            Status::Stopped => "Dừng xử lý",
            Status::Resolved => "Đã có kết quả",
            Status::Returned => "Đã trả kết quả",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown dossier status {s:?}"))
    }
}

/// How the dossier reached the agency (DOMAIN.md §4: direct 1, online 2, postal 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Direct,
    Online,
    Postal,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }

    /// The label in a language.
    pub fn label(self, lang: crate::msg::Lang) -> &'static str {
        use crate::msg::Lang;
        match (self, lang) {
            (Channel::Direct, Lang::Vi) => "Trực tiếp",
            (Channel::Postal, Lang::Vi) => "Qua bưu chính",
            (Channel::Online, Lang::Vi) => "Trực tuyến",
            (Channel::Direct, Lang::En) => "At the desk",
            (Channel::Postal, Lang::En) => "By post",
            (Channel::Online, Lang::En) => "Online",
        }
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "direct" => Ok(Channel::Direct),
            "online" => Ok(Channel::Online),
            "postal" => Ok(Channel::Postal),
            _ => Err(format!(
                "unknown channel {s:?}: expected direct, online or postal"
            )),
        }
    }
}

crate::try_from_text!(Status, Channel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_numbers_are_dvcqg_numbers_and_round_trip() {
        let numbers: Vec<u8> = Status::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, (1..=10).collect::<Vec<u8>>());
        for s in Status::ALL {
            assert_eq!(Status::from_number(i64::from(s.number())), Some(s));
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert_eq!(Status::from_number(11), None);
    }
}
