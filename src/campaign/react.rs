//! The campaign stages of a request, in plain Rust: [`counts`] then
//! [`feed`] in the LOG phase (the status is known: what the request counts
//! towards, then count it towards the application's rates, maybe start a
//! campaign), [`check`] in the PREACCESS phase (does the request match an
//! active campaign: list the address, refuse it).

use serde::Serialize;

use super::fingerprint::{address_hash, neighbourhood};
use super::{Class, Feed, Fingerprint, Metric, Prior, Report, LIST_SECS};
use crate::config::{Profile, Reaction};
use crate::detect::state::{C, SESSION_IDLE_MS};
use crate::detect::ClientState;
use crate::engine::{app_key, rfc3339, Context};
use crate::model::SensitiveKind;
use crate::shared::{ListKind, ListRecord, Shared, ORIGIN_DETECTION};

/// What the client did before this request (`None`: no record).
pub fn prior_of(state: Option<&ClientState>, now_ms: u64) -> Prior {
    match state {
        None => Prior::Nothing,
        Some(s)
            if s.requests() == 0 || now_ms.saturating_sub(s.last_seen_ms()) >= SESSION_IDLE_MS =>
        {
            Prior::Nothing
        }
        Some(s) if s.count(C::Assets) >= 0.5 => Prior::Assets,
        Some(_) => Prior::Pages,
    }
}

/// What the campaign stages need of a request's endpoint: its sensitive
/// kind under the profile and whether it is an asset (assets are never part
/// of a campaign: a page's images are fetched by whoever rendered it, and
/// never matched). The glue computes it once per request, from the same
/// endpoint template detection uses (`detect::template::normalise`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub sensitive: Option<SensitiveKind>,
    pub asset: bool,
}

impl Target {
    /// From the request's method and path (for callers without a template
    /// at hand, and tests).
    pub fn of(profile: &Profile, method: &[u8], path: &[u8]) -> Target {
        Target {
            sensitive: profile.sensitive.classify(method, path),
            asset: crate::detect::template::normalise(method, path).asset,
        }
    }

    fn class(self) -> Class {
        match self.sensitive {
            Some(k) => Class::Sensitive(k.index() as u8),
            None => Class::Page,
        }
    }
}

/// What a finished request counts towards, before any of the zone is
/// read (see [`counts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// [`Metric::bit`]s.
    metrics: u8,
    class: Class,
    prior: Prior,
    /// A page after pages, from a client that claims a browser.
    browser: bool,
}

/// What a finished request counts towards its application's rates, from
/// the request alone: `None` (most requests) when it counts towards none
/// and is no evidence, and [`feed`] has nothing to do. `known`: the client
/// had a record before this request, `prior` what it had done (see
/// [`prior_of`]).
pub fn counts(
    target: Target,
    status: u16,
    (known, prior): (bool, Prior),
    user_agent: Option<&[u8]>,
) -> Option<Counted> {
    let class = target.class();
    let mut metrics = 0;
    if matches!(status, 401 | 403) {
        metrics |= Metric::AuthFailures.bit();
    }
    if class != Class::Page {
        metrics |= Metric::SensitiveCalls.bit();
    }
    if !known {
        metrics |= Metric::FirstSeen.bit();
    }
    // An asset counts towards the rates but groups nobody.
    let prior = if target.asset { Prior::Assets } else { prior };
    // A page after pages without assets is evidence only from a client
    // that claims a browser (see `campaign::evidence`).
    let browser = class == Class::Page
        && prior == Prior::Pages
        && crate::detect::facts::user_agent(user_agent).is_browser();
    if metrics == 0 && !browser {
        return None;
    }
    Some(Counted {
        metrics,
        class,
        prior,
        browser,
    })
}

/// Counts a finished request of `cx`'s client towards its application's
/// rates, as [`counts`] said (the context's `key` and `monitor` are not
/// read: nothing is listed here). Returns the events-file line and the
/// error-log line of a campaign it started. `fingerprint` is asked for
/// only here, when the request counts towards a rate or is evidence (most
/// requests are neither, and it costs value hashes).
pub fn feed(
    cx: &Context<'_>,
    fingerprint: impl FnOnce() -> Fingerprint,
    counted: Counted,
) -> Option<(String, String)> {
    let Context {
        shared,
        profile,
        app,
        client: addr,
        now_ms,
        ..
    } = *cx;
    let Counted {
        metrics,
        class,
        prior,
        browser,
    } = counted;
    let all = shared.campaigns();
    let now_s = (now_ms / 1000) as u32;
    let mut feed = Feed {
        metrics,
        fingerprint: fingerprint(),
        class,
        prior,
        hood: 0,
        address: 0,
        browser,
    };
    // The address hashes group evidence only: a request that just counts
    // towards the rates (most first-seen clients) does not need them.
    if feed.is_evidence() {
        feed.hood = neighbourhood(addr);
        feed.address = address_hash(addr);
    }
    let report = all
        .app(app_key(app) as u64, now_s)
        .feed(all, &feed, now_ms)?;
    if !profile.acts_on(report.bot_type) {
        return None;
    }
    let event = Started {
        time: rfc3339(now_ms / 1000),
        event: "campaign_started",
        application: &String::from_utf8_lossy(app),
        profile: &profile.name,
        bot_type: report.bot_type.as_str(),
        campaign: report,
    };
    let line = serde_json::to_string(&event).ok()? + "\n";
    let summary = format!(
        "api_abuse: campaign {} started in application \"{}\": {} from {} addresses ({} in 10 s against a threshold of {}), grouped by {} {:016x}",
        report.id,
        String::from_utf8_lossy(app),
        report.bot_type,
        report.addresses_at_start,
        report.window,
        report.threshold,
        report.grouped_by,
        report.fingerprint,
    );
    Some((line, summary))
}

#[derive(Serialize)]
struct Started<'a> {
    time: String,
    event: &'static str,
    application: &'a str,
    profile: &'a str,
    bot_type: &'static str,
    campaign: Report,
}

#[derive(Serialize)]
struct Listed<'a> {
    time: String,
    client: String,
    application: &'a str,
    profile: &'a str,
    bot_type: &'static str,
    confidence: u8,
    tolerance: &'static str,
    reaction: &'static str,
    expires: Option<String>,
    request: RequestLine<'a>,
    campaign: Report,
}

#[derive(Serialize)]
struct RequestLine<'a> {
    method: &'a str,
    path: &'a str,
}

/// A request matched an active campaign.
pub struct Hit {
    /// Refuse this request (the address is denylisted now).
    pub refuse: bool,
    /// Challenge this request (the address is challenge-listed now): the
    /// request that revealed it gets the challenge, as the next ones will.
    pub challenge: bool,
    pub bot: crate::model::BotType,
    /// Events-file and error-log lines when the address was listed (or, in
    /// monitor mode, would have been).
    pub event: Option<(String, String)>,
}

/// The application's campaigns when one of them is active at `now_s`:
/// without, [`check`] answers `None` at once (the request path asks
/// first, before it gathers what `check` needs).
pub fn active_for<'a>(
    shared: &'a Shared,
    app: &[u8],
    now_s: u32,
) -> Option<&'a super::AppCampaigns> {
    let all = shared.campaigns();
    if !all.may_be_active(now_s) {
        return None;
    }
    all.find(app_key(app) as u64)
        .filter(|c| c.any_active(now_s))
}

/// Checks a request of `cx`'s client against the application's active
/// campaigns. Costs one scan of a few atomics when none is active;
/// `target` is asked for only when one is. `graylisted`: the client is
/// gray- or challenge-listed already.
pub fn check(
    cx: &Context<'_>,
    fingerprint: &Fingerprint,
    (method, path): (&[u8], &[u8]),
    target: impl FnOnce() -> Target,
    graylisted: bool,
) -> Option<Hit> {
    let Context {
        shared,
        profile,
        app,
        key,
        client: addr,
        monitor,
        now_ms,
    } = *cx;
    let now_s = (now_ms / 1000) as u32;
    let campaigns = active_for(shared, app, now_s)?;
    let target = target();
    let class = target.class();
    if target.asset {
        return None;
    }
    let (known, prior) = shared
        .clients
        .get(key, |s| (true, prior_of(Some(s), now_ms)))
        .unwrap_or((false, Prior::Nothing));
    // A browser that renders pages is never matched; and a person's first
    // page cannot have loaded assets yet, so page campaigns wait for a
    // second request without them.
    if prior == Prior::Assets || (class == Class::Page && !known) {
        return None;
    }
    let keys = [
        fingerprint.key(class, prior),
        fingerprint.hood(neighbourhood(addr), class, prior),
    ];
    let n = if class == Class::Page { 1 } else { 2 };
    let hit = campaigns.matching(shared.campaigns(), &keys[..n], now_s)?;
    if !profile.acts_on(hit.bot_type) {
        return None;
    }
    let reaction = if monitor {
        Reaction::Monitor
    } else {
        profile.reaction
    };
    // `graylisted`: gray- or challenge-listed already (see the glue).
    if matches!(reaction, Reaction::Graylist | Reaction::Challenge) && graylisted {
        // Listed already; the graylist refuses its attack-signed requests.
        return Some(Hit {
            refuse: false,
            challenge: false,
            bot: hit.bot_type,
            event: None,
        });
    }
    let secs = profile.duration.secs().unwrap_or(LIST_SECS).min(LIST_SECS);
    let expires = now_s.saturating_add(secs as u32);
    let listed = match reaction {
        Reaction::Monitor => false,
        // Through the detection path: it keeps the operators' share of the
        // table free and caps what one /24 or /48 can take.
        r => !matches!(
            shared.list_detected(
                key,
                now_s,
                ListRecord {
                    kind: match r {
                        Reaction::Graylist => ListKind::Gray,
                        Reaction::Challenge => ListKind::Challenge,
                        _ => ListKind::Deny,
                    } as u8,
                    origin: ORIGIN_DETECTION,
                    bot_type: hit.bot_type.index() as u8 + 1,
                    confidence: 100,
                    offences: 0,
                    created: now_s,
                    expires,
                    stamp: 0,
                },
            ),
            crate::shared::Listed::Full
        ),
    };
    let report = hit.listed(listed);
    // In monitor mode nothing is listed, so every matching request would
    // be an event: write the first ten and then every hundredth.
    let write = listed
        || (reaction == Reaction::Monitor && (report.matched <= 10 || report.matched % 100 == 0));
    let event = write.then(|| {
        let app = String::from_utf8_lossy(app);
        let line = Listed {
            time: rfc3339(now_ms / 1000),
            client: addr.to_string(),
            application: &app,
            profile: &profile.name,
            bot_type: hit.bot_type.as_str(),
            confidence: 100,
            tolerance: profile.tolerance.as_str(),
            reaction: reaction.as_str(),
            expires: listed.then(|| rfc3339(u64::from(expires))),
            request: RequestLine {
                method: &String::from_utf8_lossy(method),
                path: &String::from_utf8_lossy(&path[..path.len().min(256)]),
            },
            campaign: report,
        };
        let summary = format!(
            "api_abuse: client {addr} matches campaign {} ({}, {} addresses listed so far) of profile \"{}\", {}",
            report.id,
            report.bot_type,
            report.addresses_listed,
            profile.name,
            if listed {
                format!("{} for {secs}s", match reaction { Reaction::Graylist => "graylisted", Reaction::Challenge => "challenged", _ => "denylisted" })
            } else {
                "not listed (monitor)".into()
            }
        );
        (
            serde_json::to_string(&line).unwrap_or_default() + "\n",
            summary,
        )
    });
    Some(Hit {
        refuse: listed && reaction == Reaction::Denylist,
        challenge: listed && reaction == Reaction::Challenge,
        bot: hit.bot_type,
        event,
    })
}
