//! What the bench does to a motcua installation: load the catalog and officers, then drive
//! intakes, full lifecycles and public lookups over HTTP; import history and time reports.

use crate::http1::Conn;
use crate::load::{self, Stats, send};
use crate::province::{LIFECYCLE_CASE, LIFECYCLE_PROCEDURE, Province, mix};
use crate::server::Install;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
/// Codes kept from the intake phase for the lookup phase.
const KEEP_CODES: usize = 50_000;
/// Share of lifecycles with one supplement request (per cent).
const SUPPLEMENT_PERCENT: u64 = 30;

/// One desk: an agency and its officer (who holds every processing role there).
pub struct Desk {
    pub agency: String,
    pub username: String,
    pub token: String,
}

/// A loaded installation ready for traffic.
pub struct Live {
    pub desks: Vec<Desk>,
    pub admin_token: String,
}

/// Imports the catalog and creates officers (one per desk, holding every role the workflow
/// needs) and an administrator, each with an API token.
/// Without `with_desks` only the administrator is made (the report phases need no desks).
pub fn load_catalog(
    install: &Install,
    province: &Province,
    work: &std::path::Path,
    with_desks: bool,
) -> anyhow::Result<Live> {
    let agencies = work.join("agencies.csv");
    let procedures = work.join("procedures.json");
    province.write_catalog(&agencies, &procedures)?;
    install.run(&["import", "agencies", &agencies.to_string_lossy()], None)?;
    install.run(&["import", "procedures", &procedures.to_string_lossy()], None)?;
    let password = Some("mat-khau-thu-nghiem\n");
    let token = |username: &str| -> anyhow::Result<String> {
        let ran = install.run(
            &["user", "token", "--username", username, "--name", "bench"],
            None,
        )?;
        Ok(ran.stdout.trim().to_string())
    };
    let mut desks = Vec::new();
    for (i, agency) in province.desks.iter().enumerate().filter(|_| with_desks) {
        let username = format!("bench.desk{i}");
        let mut args = vec![
            "user",
            "add",
            "--username",
            &username,
            "--password-stdin",
            "--agency",
            agency,
        ];
        for role in [
            "receiving_officer",
            "leader",
            "specialist",
            "clerk",
            "approver",
            "result_officer",
        ] {
            args.extend(["--role", role]);
        }
        install.run(&args, password)?;
        desks.push(Desk {
            agency: agency.clone(),
            token: token(&username)?,
            username,
        });
    }
    install.run(
        &[
            "user",
            "add",
            "--username",
            "bench.admin",
            "--password-stdin",
            "--agency",
            &province.root,
            "--role",
            "admin",
        ],
        password,
    )?;
    Ok(Live {
        desks,
        admin_token: token("bench.admin")?,
    })
}

/// Shared by the tasks of the live phases.
pub struct Ctx {
    pub base: String,
    pub live: Live,
    /// `sha256:…` of an uploaded scan, reused as component, supplement and result.
    pub file: String,
    /// (code, last 4 digits of the phone) of dossiers received, for lookups.
    pub codes: Mutex<Vec<(String, String)>>,
    /// One keep-alive connection per client task for intakes and actions (`http1`).
    conns: Vec<tokio::sync::Mutex<Option<Conn>>>,
}

impl Ctx {
    /// `clients`: how many tasks the live phases run (each gets a connection of its own).
    pub async fn new(base: &str, live: Live, clients: usize) -> anyhow::Result<Arc<Ctx>> {
        let client = reqwest::Client::new();
        let up = send(
            client
                .post(format!("{base}/api/v1/uploads?filename=bench.pdf"))
                .bearer_auth(&live.desks[0].token)
                .body(PDF.to_vec()),
            "upload",
        )
        .await
        .map_err(anyhow::Error::msg)?;
        let sha = up["sha256"].as_str().unwrap_or_default().to_string();
        Ok(Arc::new(Ctx {
            base: base.to_string(),
            live,
            file: format!("sha256:{sha}"),
            codes: Mutex::new(Vec::new()),
            conns: (0..clients.max(1))
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
        }))
    }

    /// POSTs `body` as JSON on the task's connection (opened on first use, and again after
    /// an error); Ok(JSON answer) on 2xx.
    async fn post(
        &self,
        task: usize,
        path: &str,
        token: &str,
        body: &Value,
        what: &str,
    ) -> Result<Value, String> {
        let mut slot = self.conns[task % self.conns.len()].lock().await;
        if slot.is_none() {
            *slot = Some(
                Conn::connect(&self.base, None)
                    .await
                    .map_err(|e| format!("{what}: {e}"))?,
            );
        }
        let conn = slot.as_mut().expect("just filled");
        let body = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        match conn.post_json(path, token, &body).await {
            Ok(a) => load::answer(a.status, &a.body, what),
            Err(e) => {
                *slot = None;
                Err(format!("{what}: {e}"))
            }
        }
    }

    fn desk(&self, task: usize) -> &Desk {
        &self.live.desks[task % self.live.desks.len()]
    }

    /// Receives one dossier at the task's desk; returns its code.
    async fn intake(&self, task: usize, i: u64) -> Result<String, String> {
        let desk = self.desk(task);
        let h = mix(((task as u64) << 40) ^ i);
        let phone = format!("09{:08}", h % 100_000_000);
        let body = json!({
            "procedure": LIFECYCLE_PROCEDURE, "case": LIFECYCLE_CASE, "agency": desk.agency, "channel": "direct",
            "applicant": {"kind": "person", "name": "Nguyễn Văn Thử", "id_number": format!("{:012}", h % 1_000_000_000_000),
                          "phone": phone, "email": "", "address": "Thôn 1, xã Thử Nghiệm"},
            "request": "Hồ sơ thử nghiệm hiệu năng",
            "components": [{"index": 0, "provided": true, "file": self.file}, {"index": 1, "provided": false}]
        });
        let d = self
            .post(task, "/api/v1/dossiers", &desk.token, &body, "intake")
            .await?;
        let code = d["code"]
            .as_str()
            .ok_or("intake: no code in the answer")?
            .to_string();
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        if codes.len() < KEEP_CODES {
            codes.push((code.clone(), phone[phone.len() - 4..].to_string()));
        }
        Ok(code)
    }

    async fn act(&self, task: usize, code: &str, action: &str, body: Value) -> Result<(), String> {
        let path = format!("/api/v1/dossiers/{code}/actions/{action}");
        self.post(task, &path, &self.desk(task).token, &body, action)
            .await
            .map(|_| ())
    }

    /// Intake → transfer → assign (leader) → [supplement asked and received, 30%] →
    /// complete (specialist) → complete (clerk) → approve with the result → return.
    async fn lifecycle(&self, task: usize, i: u64) -> Result<(), String> {
        let desk = self.desk(task);
        let code = self.intake(task, i).await?;
        self.act(task, &code, "transfer", json!({})).await?;
        self.act(task, &code, "assign", json!({"assignee": desk.username}))
            .await?;
        if mix(i ^ 0xABCD ^ task as u64) % 100 < SUPPLEMENT_PERCENT {
            self.act(
                task,
                &code,
                "request_supplement",
                json!({"note": "Thiếu giấy tờ kèm theo"}),
            )
            .await?;
            self.act(task, &code, "receive_supplement", json!({"file": self.file}))
                .await?;
        }
        self.act(task, &code, "complete_step", json!({"note": "Đủ điều kiện"}))
            .await?;
        self.act(task, &code, "complete_step", json!({})).await?;
        self.act(
            task,
            &code,
            "approve",
            json!({"file": self.file, "result_number": format!("{i}/KQ")}),
        )
        .await?;
        self.act(task, &code, "return_result", json!({"method": "desk"}))
            .await
    }
}

pub async fn intakes(ctx: &Arc<Ctx>, clients: usize, duration: Duration) -> Stats {
    let c = ctx.clone();
    load::run(clients, duration, move |task, i| {
        let c = c.clone();
        async move { c.intake(task, i).await.map(|_| ()) }
    })
    .await
}

pub async fn lifecycles(ctx: &Arc<Ctx>, clients: usize, duration: Duration) -> Stats {
    let c = ctx.clone();
    load::run(clients, duration, move |task, i| {
        let c = c.clone();
        // Distinct iteration numbers from the intake phase's, so applicants differ.
        async move { c.lifecycle(task, i | (1 << 32)).await }
    })
    .await
}

/// Source addresses for lookups. The server allows a fixed number of lookups per client
/// address per minute (60, not configurable), so each client task moves to a fresh loopback
/// address (127.x.y.z) after `per_address` lookups.
struct Sources {
    next: AtomicU32,
    per_address: u64,
}

impl Sources {
    fn address(&self) -> IpAddr {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let (a, last) = (n / 254, (n % 254) as u8 + 1);
        IpAddr::V4(Ipv4Addr::new(
            127,
            1 + ((a / 256) % 250) as u8,
            (a % 256) as u8,
            last,
        ))
    }
}

/// A client task's connection and how many lookups it has made from its address.
type Slot = tokio::sync::Mutex<Option<(crate::http1::Conn, u64)>>;

/// Public lookups over the bench's lean HTTP/1.1 client (`http1`), one keep-alive connection
/// per task: the server's answer must be 200 and name the dossier looked up.
pub async fn lookups(
    ctx: &Arc<Ctx>,
    clients: usize,
    duration: Duration,
    per_address: u64,
) -> anyhow::Result<Stats> {
    let codes = Arc::new(ctx.codes.lock().unwrap_or_else(|p| p.into_inner()).clone());
    anyhow::ensure!(
        !codes.is_empty(),
        "no dossier codes to look up (the intake phase made none)"
    );
    let sources = Arc::new(Sources {
        next: AtomicU32::new(0),
        per_address: per_address.max(1),
    });
    // One connection per task, replaced when its address has used its allowance.
    let slots: Arc<Vec<Slot>> = Arc::new((0..clients).map(|_| tokio::sync::Mutex::new(None)).collect());
    let base = ctx.base.clone();
    Ok(load::run(clients, duration, move |task, i| {
        let (codes, sources, slots, base) = (codes.clone(), sources.clone(), slots.clone(), base.clone());
        async move {
            let mut slot = slots[task].lock().await;
            if !matches!(&*slot, Some((_, used)) if *used < sources.per_address) {
                *slot = Some((
                    crate::http1::Conn::connect(&base, Some(sources.address())).await?,
                    0,
                ));
            }
            let (conn, used) = slot.as_mut().expect("just filled");
            *used += 1;
            let (code, verify) = &codes[(mix(i ^ ((task as u64) << 44)) % codes.len() as u64) as usize];
            let answer = match conn
                .get(&format!("/api/v1/public/dossiers/{code}?verify={verify}"))
                .await
            {
                Ok(a) => a,
                Err(e) => {
                    *slot = None;
                    return Err(format!("lookup: {e}"));
                }
            };
            let body = String::from_utf8_lossy(&answer.body);
            if answer.status != 200 {
                return Err(format!(
                    "{} lookup: {}",
                    answer.status,
                    body.chars().take(300).collect::<String>()
                ));
            }
            if !body.contains(&format!("\"code\":\"{code}\"")) {
                return Err(format!("lookup: answer for another dossier: {body}"));
            }
            Ok(())
        }
    })
    .await)
}

/// Times `n` II.06a reports one after another (`by`: none for the province total, or
/// `agency`) over the import period; stops early (after at least 3) once `budget` is spent.
pub async fn reports(base: &str, token: &str, by: Option<&str>, n: usize, budget: Duration) -> Stats {
    let client = reqwest::Client::new();
    let mut url = format!("{base}/api/v1/reports/ii06a?from=2025-01-01&to=2025-12-31");
    if let Some(by) = by {
        url += &format!("&by={by}");
    }
    let (mut lat, mut errors, mut first) = (Vec::new(), 0, Vec::new());
    let started = Instant::now();
    for i in 0..n {
        if i >= 3 && started.elapsed() > budget {
            break;
        }
        let t0 = Instant::now();
        match send(client.get(&url).bearer_auth(token), "report").await {
            Ok(v) if v["total"].is_object() => lat.push(t0.elapsed().as_micros() as u64),
            Ok(v) => {
                errors += 1;
                first.push(format!(
                    "report without a total: {}",
                    v.to_string().chars().take(200).collect::<String>()
                ));
            }
            Err(e) => {
                errors += 1;
                if first.len() < 5 {
                    first.push(e);
                }
            }
        }
    }
    Stats::from_samples(lat, errors, first, started.elapsed())
}

/// The report's total received count (to check the import landed).
pub async fn report_total_received(base: &str, token: &str) -> anyhow::Result<i64> {
    let v = send(
        reqwest::Client::new()
            .get(format!(
                "{base}/api/v1/reports/ii06a?from=2025-01-01&to=2025-12-31"
            ))
            .bearer_auth(token),
        "report",
    )
    .await
    .map_err(anyhow::Error::msg)?;
    v["total"]["received"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no total.received in {v}"))
}
