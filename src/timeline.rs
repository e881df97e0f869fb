//! Counters over time for the dashboard, in the shared zone: detections,
//! refusals and monitor-mode "would block"s per hour for the last
//! [`HOURS`] hours, and deny-/graylistings per bot type per day for the
//! last [`DAYS`](crate::shared::DAYS) days (the 30-day statistics with the
//! change against the 30 days before).
//!
//! Each slot carries the hour (or day) it counts for; the first writer of a
//! new period claims the slot with a compare-and-swap and zeroes it. Two
//! workers racing at the turn of the hour may lose one count, which a chart
//! tolerates, and nothing here takes a lock.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::model::BotType;
use crate::shared::DAYS;

/// Hours of per-hour counters kept (the chart shows the last 24 or 48).
pub const HOURS: usize = 48;
const BOTS: usize = 8;
const _: () = assert!(BotType::ALL.len() == BOTS);

/// What happened in one hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hour {
    /// Hours since the Unix epoch.
    pub hour: u32,
    pub detections: u32,
    /// Requests refused (denylist, or graylist + attack signs).
    pub refused: u32,
    /// Requests that would have been refused, in monitor mode.
    pub monitored: u32,
}

#[repr(C)]
struct HourSlot {
    /// Hour since the epoch + 1 (0 = never used).
    tag: AtomicU32,
    detections: AtomicU32,
    refused: AtomicU32,
    monitored: AtomicU32,
}

#[repr(C)]
struct DaySlot {
    /// Day since the epoch + 1 (0 = never used).
    tag: AtomicU32,
    deny: [AtomicU32; BOTS],
    gray: [AtomicU32; BOTS],
}

/// Which hourly counter to bump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HourCounter {
    Detection,
    Refusal,
    Monitored,
}

/// Per-bot-type listings in a period: `(deny, gray)` per bot type.
pub type BotCounts = [(u64, u64); BOTS];

/// Laid out in shared memory; all-zero is "nothing counted".
#[repr(C)]
pub struct Timeline {
    hours: [HourSlot; HOURS],
    days: [DaySlot; DAYS],
}

/// Claims `tag` for a slot whose counters are `counters`, zeroing them when
/// the slot last counted another period.
fn claim<'a>(slot_tag: &AtomicU32, tag: u32, counters: impl IntoIterator<Item = &'a AtomicU32>) {
    let seen = slot_tag.load(Ordering::Acquire);
    if seen < tag
        && slot_tag
            .compare_exchange(seen, tag, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        for c in counters {
            c.store(0, Ordering::Relaxed);
        }
    }
}

impl Timeline {
    /// Counts one event of `what` at `now` (Unix seconds).
    pub fn count(&self, what: HourCounter, now: u64) {
        let hour = (now / 3600) as u32;
        let slot = &self.hours[hour as usize % HOURS];
        let tag = hour + 1;
        claim(
            &slot.tag,
            tag,
            [&slot.detections, &slot.refused, &slot.monitored],
        );
        if slot.tag.load(Ordering::Relaxed) != tag {
            return; // a newer hour already owns the slot (clock went back)
        }
        let c = match what {
            HourCounter::Detection => &slot.detections,
            HourCounter::Refusal => &slot.refused,
            HourCounter::Monitored => &slot.monitored,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a deny- (`gray == false`) or graylisting of a `bot` at `now`.
    pub fn count_listing(&self, bot: BotType, gray: bool, now: u64) {
        let day = (now / 86_400) as u32;
        let slot = &self.days[day as usize % DAYS];
        let tag = day + 1;
        claim(&slot.tag, tag, slot.deny.iter().chain(slot.gray.iter()));
        if slot.tag.load(Ordering::Relaxed) != tag {
            return;
        }
        let arr = if gray { &slot.gray } else { &slot.deny };
        arr[bot.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// The last `n` hours up to the one holding `now`, oldest first; hours
    /// with nothing counted are zeros.
    pub fn hours(&self, now: u64, n: usize) -> Vec<Hour> {
        let current = (now / 3600) as u32;
        let n = n.min(HOURS) as u32;
        (0..n)
            .rev()
            .filter_map(|back| current.checked_sub(back))
            .map(|hour| {
                let slot = &self.hours[hour as usize % HOURS];
                let ld = |a: &AtomicU32| a.load(Ordering::Relaxed);
                if ld(&slot.tag) == hour + 1 {
                    Hour {
                        hour,
                        detections: ld(&slot.detections),
                        refused: ld(&slot.refused),
                        monitored: ld(&slot.monitored),
                    }
                } else {
                    Hour {
                        hour,
                        ..Hour::default()
                    }
                }
            })
            .collect()
    }

    /// Listings per bot type in the `days` days up to `today` (inclusive)
    /// and in the `days` days before them.
    pub fn listings_by_bot(&self, today: u32, days: u32) -> (BotCounts, BotCounts) {
        let mut recent = [(0, 0); BOTS];
        let mut before = [(0, 0); BOTS];
        for slot in &self.days {
            let Some(d) = slot.tag.load(Ordering::Relaxed).checked_sub(1) else {
                continue;
            };
            let target = if d <= today && today - d < days {
                &mut recent
            } else if d <= today && today - d < 2 * days {
                &mut before
            } else {
                continue;
            };
            for (i, t) in target.iter_mut().enumerate() {
                t.0 += u64::from(slot.deny[i].load(Ordering::Relaxed));
                t.1 += u64::from(slot.gray[i].load(Ordering::Relaxed));
            }
        }
        (recent, before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> Box<Timeline> {
        // SAFETY: atomics only; all-zero is the empty timeline.
        unsafe { Box::new_zeroed().assume_init() }
    }

    #[test]
    fn hours_roll_over() {
        let t = timeline();
        let h0 = 500_000u64 * 3600;
        t.count(HourCounter::Detection, h0 + 10);
        t.count(HourCounter::Refusal, h0 + 20);
        t.count(HourCounter::Refusal, h0 + 3599);
        t.count(HourCounter::Monitored, h0 + 3600);
        let hs = t.hours(h0 + 3600, 3);
        assert_eq!(hs.len(), 3);
        assert_eq!(
            hs[0],
            Hour {
                hour: 499_999,
                ..Hour::default()
            }
        );
        assert_eq!((hs[1].detections, hs[1].refused), (1, 2));
        assert_eq!(hs[2].monitored, 1);
        // the same slot, HOURS hours later, starts from zero
        t.count(HourCounter::Refusal, h0 + HOURS as u64 * 3600);
        let later = t.hours(h0 + HOURS as u64 * 3600, 1);
        assert_eq!((later[0].detections, later[0].refused), (0, 1));
        // the old hour is gone, not mixed in
        assert_eq!(t.hours(h0, 1)[0].refused, 0);
    }

    #[test]
    fn listings_per_bot_type_over_two_periods() {
        let t = timeline();
        let today = 20_000u32;
        let at = |d: u32| u64::from(d) * 86_400 + 100;
        t.count_listing(BotType::Scraping, false, at(today));
        t.count_listing(BotType::Scraping, false, at(today - 29));
        t.count_listing(BotType::Scraping, true, at(today - 30));
        t.count_listing(BotType::Bola, false, at(today - 59));
        t.count_listing(BotType::Bola, false, at(today - 60));
        let (recent, before) = t.listings_by_bot(today, 30);
        let s = BotType::Scraping.index();
        let b = BotType::Bola.index();
        assert_eq!(recent[s], (2, 0));
        assert_eq!(before[s], (0, 1));
        assert_eq!(before[b], (1, 0), "day 60 is outside both periods");
        assert_eq!(recent[b], (0, 0));
    }
}
