//! A dossier's events: the next link of its hash chain, and what is written with it — the
//! event row and the outbox messages (the national portal's copy, the citizen's notice).

use crate::ServiceResult;
use chrono::{DateTime, Utc};
use motcua_domain::calendar;
use motcua_domain::dossier::Status;
use motcua_domain::dossier::chain::{ChainBreak, EventContent, event_hash};
use motcua_domain::dossier::{ApplicantKind, Dossier};
use motcua_store::repo::events::{self, ChainHead, Event};
use motcua_store::repo::outbox;

/// The next event of `d`'s hash chain; `d` moves on to it (chain head and status).
#[allow(clippy::too_many_arguments)]
pub(super) fn chain_event(
    d: &mut Dossier,
    actor: &str,
    action: &str,
    from: Status,
    to: Status,
    step: Option<i64>,
    note: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Event {
    let at = now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let details = details.to_string();
    let seq = d.event_count + 1;
    // The internal id, not the code: an online dossier gets its code only at acceptance.
    let key = d.id.to_string();
    let content = EventContent {
        dossier_code: &key,
        seq,
        at: &at,
        actor,
        action,
        from_status: from.as_str(),
        to_status: to.as_str(),
        step,
        note,
        details: &details,
    };
    let hash = event_hash(&d.last_hash, &content);
    let event = Event {
        seq,
        at: at.clone(),
        actor: actor.into(),
        action: action.into(),
        from_status: from.as_str().into(),
        to_status: to.as_str().into(),
        step_seq: step,
        note: note.into(),
        details,
        prev_hash: d.last_hash.clone(),
        hash: hash.clone(),
    };
    d.last_hash = hash;
    d.event_count = seq;
    d.status = to;
    event
}

/// What a notice needs besides the dossier and its event: where its desk is, how the
/// result goes back, by when a supplement is expected, the site's address.
pub(super) struct NoticeCx<'a> {
    pub agency_address: &'a str,
    pub delivery: Option<motcua_domain::dossier::ReturnMethod>,
    pub supplement_by: Option<DateTime<Utc>>,
    pub public_url: &'a str,
    /// Where the applicant wants the notices (`notice_channels`, read before the
    /// transaction: a read inside it would send PostgreSQL's deferred guarded writes early).
    pub channels: motcua_domain::notice::Channels,
}

/// The citizen's notice of a move of `d` to `to` (templates: `motcua_domain::notice`).
fn notice_text(d: &Dossier, event: &Event, to: Status, cx: &NoticeCx) -> String {
    let key = d.key();
    let lookup = format!("{}/tra-cuu?ma={key}", cx.public_url);
    let facts = motcua_domain::notice::Facts {
        key: &key,
        procedure: &d.procedure_name,
        agency: &d.agency_name,
        agency_address: cx.agency_address,
        due_at: d.due_at,
        accept_due_at: d.accept_due_at,
        note: &event.note,
        supplement_by: cx.supplement_by,
        delivery: cx.delivery,
        lookup: &lookup,
    };
    match event.action.as_str() {
        "reschedule" => motcua_domain::notice::rescheduled(&facts),
        _ => motcua_domain::notice::dossier_notice(to, &facts),
    }
}

/// Writes an event made by `chain_event` for `d` (already moved on to it, from status
/// `from` to `to`) and queues its side effects.
pub(super) async fn write_event(
    tx: &mut motcua_store::Tx,
    d: &Dossier,
    event: &Event,
    from: Status,
    to: Status,
    now: DateTime<Utc>,
    cx: &NoticeCx<'_>,
) -> ServiceResult<()> {
    events::append_event(tx, d.id, event).await?;
    let (seq, action) = (event.seq, event.action.as_str());
    // `event_seq` makes redelivery idempotent for receivers (at-least-once delivery).
    let mut sync = dvcqg_payload(d, to);
    sync["event_seq"] = seq.into();
    let mut messages = vec![("dvcqg_sync", sync.to_string())];
    if from != to || matches!(action, "reschedule" | "submit_online") {
        // To the contacts the applicant chose.
        let (phone, email) = cx.channels.recipients(&d.phone, &d.email);
        let notice = serde_json::json!({
            "code": d.key(), "status": to.as_str(), "status_number": to.number(), "phone": phone, "email": email,
            "message": notice_text(d, event, to, cx), "event_seq": seq,
        });
        messages.push(("notify_citizen", notice.to_string()));
    }
    outbox::enqueue_all(tx, d.id, &messages, now).await?;
    Ok(())
}

/// The dossier as pushed to the national portal (DOMAIN.md §9; dates `yyyyMMddHHmmss`, local).
pub fn dvcqg_payload(d: &Dossier, status: Status) -> serde_json::Value {
    let fmt = |t: Option<DateTime<Utc>>| t.map(|t| calendar::to_local(t).format("%Y%m%d%H%M%S").to_string());
    serde_json::json!({
        "MaHoSo": d.key(),
        "MaTTHC": d.procedure_code,
        "TenTTHC": d.procedure_name,
        "KenhThucHien": match d.channel.as_str() { "online" => 2, "postal" => 3, _ => 1 },
        "LoaiDoiTuong": if d.applicant_kind == ApplicantKind::Organisation { 2 } else { 1 },
        "MaDoiTuong": d.applicant_id_number,
        "ChuHoSo": d.applicant_name,
        "NgayNopHoSo": fmt(d.submitted_at.or(d.received_at)),
        "NgayTiepNhan": fmt(d.received_at),
        "NgayHenTra": fmt(d.due_at),
        "TrangThaiHoSo": status.number(),
        "NgayTra": fmt(d.returned_at),
        "NgayKetThucXuLy": fmt(d.finished_at),
        "HinhThuc": d.return_method,
        // A dossier submitted on the portal: its id there, so the portal matches the record.
        "MaHoSoQG": d.portal_id,
        // Submitted by an account verified with the national identity (VNeID): 1, else 0.
        "XacThucVNeID": u8::from(d.vneid_verified),
    })
}

/// Verifies the hash chain of a dossier's events (in seq order) against its head, as read
/// together (`repo::events::Chain`): each event follows the one before it, and there are as
/// many as the dossier counts, the last one's hash being its last hash.
pub fn verify_chain(dossier_id: i64, head: &ChainHead, events: &[Event]) -> Result<(), ChainBreak> {
    let key = dossier_id.to_string();
    let key = key.as_str();
    motcua_domain::dossier::chain::verify(
        events.iter().map(|e| {
            (
                EventContent {
                    dossier_code: key,
                    seq: e.seq,
                    at: &e.at,
                    actor: &e.actor,
                    action: &e.action,
                    from_status: &e.from_status,
                    to_status: &e.to_status,
                    step: e.step_seq,
                    note: &e.note,
                    details: &e.details,
                },
                e.prev_hash.as_str(),
                e.hash.as_str(),
            )
        }),
        head.event_count,
        &head.last_hash,
    )
}
