//! The administrator's outbox page: what waits to go to the national portal and to citizens,
//! what failed and why, and "Gửi lại" for dead messages. Sends nothing itself: putting a
//! message back in the queue is all it does; the server's worker delivers.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{csrf_rejected, require_admin, see_other};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use motcua_store::repo::outbox::{Held, Retried};
use serde::Deserialize;

/// Messages shown at most in each list of the page.
const LISTED: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(show))
        .route("/admin/outbox/{id}/retry", post(retry_one))
        .route("/admin/outbox/retry-dead", post(retry_dead))
}

fn time_vi(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| {
        motcua_domain::calendar::to_local(t)
            .format("%d/%m/%Y %H:%M:%S")
            .to_string()
    })
    .unwrap_or_else(|| "—".into())
}

/// What a topic is, in words.
fn topic_vi(topic: &str) -> String {
    match topic {
        "dvcqg_sync" => "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia".into(),
        "notify_citizen" => "Thông báo, mã xác thực gửi người dân".into(),
        other => other.into(),
    }
}

struct TopicRow {
    topic: String,
    label: String,
    pending: i64,
    retrying: i64,
    dead: i64,
    oldest_pending: String,
    last_delivered: String,
}

struct HeldRow {
    id: i64,
    label: String,
    dossier: String,
    attempts: i64,
    when: String,
    error: String,
}

fn held_rows(list: &[Held], dead: bool) -> Vec<HeldRow> {
    list.iter()
        .map(|h| HeldRow {
            id: h.id,
            label: topic_vi(&h.topic),
            dossier: h.dossier.clone().unwrap_or_else(|| "—".into()),
            attempts: h.attempts,
            when: time_vi(if dead { h.dead_at } else { h.next_attempt_at }),
            error: h.last_error.clone().unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    topics: Vec<TopicRow>,
    retrying: Vec<HeldRow>,
    retrying_total: i64,
    dead: Vec<HeldRow>,
    dead_total: i64,
    flash: Option<String>,
}

#[derive(Deserialize)]
pub struct ShownQuery {
    retried: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<ShownQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let o = state.services.outbox_overview(&user, LISTED).await?;
    let flash = q.retried.as_deref().map(|n| match n.parse::<u64>() {
        Ok(0) | Err(_) => "Không có tin nào cần gửi lại (có thể đã được gửi lại trước đó).".to_string(),
        Ok(n) => format!("Đã đưa {n} tin trở lại hàng đợi; hệ thống sẽ gửi lại trong giây lát, theo đúng thứ tự của từng hồ sơ."),
    });
    let page = OutboxPage {
        chrome: Chrome::current(),
        topics: o
            .topics
            .iter()
            .map(|t| TopicRow {
                topic: t.counts.topic.clone(),
                label: topic_vi(&t.counts.topic),
                pending: t.counts.pending,
                retrying: t.counts.retrying,
                dead: t.counts.dead,
                oldest_pending: time_vi(t.counts.oldest_pending),
                last_delivered: time_vi(t.last_delivered),
            })
            .collect(),
        retrying: held_rows(&o.retrying, false),
        retrying_total: o.retrying_total(),
        dead: held_rows(&o.dead, true),
        dead_total: o.dead_total(),
        flash,
    };
    Ok(Html(page.render()?))
}

#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    csrf: String,
}

async fn retry_one(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<RetryForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(PageError::not_found)?;
    // A message delivered or put back meanwhile (another tab, the command line): nothing to do.
    let n = match state.services.outbox_retry(&user, &[id]).await? {
        Retried::Queued(n) => n,
        Retried::Unknown(_) => return Err(PageError::not_found()),
        Retried::Delivered(_) => 0,
    };
    Ok(see_other(&format!("/admin/outbox?retried={n}")))
}

#[derive(Deserialize)]
pub struct RetryDeadForm {
    #[serde(default)]
    csrf: String,
    /// Only this topic's dead messages (empty: all).
    #[serde(default)]
    topic: String,
}

async fn retry_dead(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<RetryDeadForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let topic = match form.topic.as_str() {
        "" => None,
        t if motcua_service::outbox::TOPICS.contains(&t) => Some(t),
        t => {
            return Err(crate::pages::common::bad_request(format!(
                "Loại tin không hợp lệ: “{t}”."
            )));
        }
    };
    let n = state.services.outbox_retry_dead(&user, topic).await?;
    Ok(see_other(&format!("/admin/outbox?retried={n}")))
}
