//! When the configured backup job runs: `[backup.schedule]` in rast.toml.
//!
//! ```toml
//! [backup.schedule]
//! every = "6h"        # an interval (humantime: 30m, 6h, 1d) counted from the last run
//! # or
//! at = "03:30"        # a calendar time, local: "HH:MM" daily, "hourly", "daily", "weekly"
//! ```
//!
//! Exactly one of `every` / `at`. `next_run` is pure (times in Unix seconds) so the agent,
//! `rast backup schedule` and the tests share one definition.

use chrono::{DateTime, Datelike, Duration, Local, NaiveTime, TimeZone, Timelike};
use serde::Deserialize;

use crate::{Error, Result};

/// `[backup.schedule]` as written.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    pub every: Option<String>,
    pub at: Option<String>,
}

/// A parsed schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Seconds between runs, counted from the last run.
    Every(u64),
    /// Local wall-clock time each day.
    Daily { hour: u32, minute: u32 },
    /// At minute 0 of every hour.
    Hourly,
    /// Mondays at 00:00 local.
    Weekly,
}

/// The schedule as a person would write it: "every 6h", "daily at 03:30", …
impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Schedule::Every(s) => write!(
                f,
                "every {}",
                humantime::format_duration(std::time::Duration::from_secs(*s))
            ),
            Schedule::Daily { hour, minute } => write!(f, "daily at {hour:02}:{minute:02}"),
            Schedule::Hourly => write!(f, "hourly"),
            Schedule::Weekly => write!(f, "weekly (Mondays 00:00)"),
        }
    }
}

impl Schedule {
    pub fn parse(c: &ScheduleConfig) -> Result<Schedule> {
        let bad = |m: String| Error::Invalid(format!("[backup.schedule]: {m}"));
        match (&c.every, &c.at) {
            (Some(e), None) => {
                let d = humantime::parse_duration(e.trim())
                    .map_err(|err| bad(format!("every = {e:?}: {err}")))?;
                if d.as_secs() < 60 {
                    return Err(bad(format!("every = {e:?}: at least 1m")));
                }
                Ok(Schedule::Every(d.as_secs()))
            }
            (None, Some(a)) => match a.trim() {
                "hourly" => Ok(Schedule::Hourly),
                "daily" => Ok(Schedule::Daily { hour: 0, minute: 0 }),
                "weekly" => Ok(Schedule::Weekly),
                t => {
                    let time = NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
                        bad(format!(
                            "at = {a:?}: expected HH:MM, hourly, daily or weekly"
                        ))
                    })?;
                    Ok(Schedule::Daily {
                        hour: time.hour(),
                        minute: time.minute(),
                    })
                }
            },
            (Some(_), Some(_)) => Err(bad("give either every or at, not both".into())),
            (None, None) => Err(bad("give every = \"6h\" or at = \"03:30\"".into())),
        }
    }

    /// The first run strictly after `now` (Unix seconds), given the last run.
    pub fn next_run(&self, now: i64, last: Option<i64>) -> i64 {
        self.next_run_in(&Local, now, last)
    }

    /// [`Schedule::next_run`] in a given time zone (tests use fixed offsets).
    pub fn next_run_in<Tz: TimeZone>(&self, tz: &Tz, now: i64, last: Option<i64>) -> i64 {
        let local = |t: i64| -> DateTime<Tz> {
            tz.timestamp_opt(t, 0)
                .earliest()
                .expect("timestamp in range")
        };
        match *self {
            Schedule::Every(secs) => match last {
                // Overdue runs happen now (one, not a catch-up burst).
                Some(l) => (l + secs as i64).max(now + 1),
                None => now + 1,
            },
            Schedule::Hourly => {
                let n = local(now);
                let top = n.timestamp() - (n.minute() * 60 + n.second()) as i64;
                top + 3600
            }
            Schedule::Daily { hour, minute } => {
                let n = local(now);
                let mut day = n.date_naive();
                loop {
                    let cand = day
                        .and_hms_opt(hour, minute, 0)
                        .and_then(|d| tz.from_local_datetime(&d).earliest());
                    if let Some(c) = cand.filter(|c| c.timestamp() > now) {
                        return c.timestamp();
                    }
                    day = day.succ_opt().expect("date in range");
                }
            }
            Schedule::Weekly => {
                let n = local(now);
                let mut day = n.date_naive();
                loop {
                    if day.weekday() == chrono::Weekday::Mon {
                        if let Some(c) = day
                            .and_hms_opt(0, 0, 0)
                            .and_then(|d| tz.from_local_datetime(&d).earliest())
                            .filter(|c| c.timestamp() > now)
                        {
                            return c.timestamp();
                        }
                    }
                    day += Duration::days(1);
                }
            }
        }
    }

    /// The next `n` run times after `now`, assuming each run happens when due.
    pub fn preview(&self, now: i64, last: Option<i64>, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let (mut t, mut l) = (now, last);
        for _ in 0..n {
            let next = self.next_run(t, l);
            out.push(next);
            t = next;
            l = Some(next);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn cfg(every: Option<&str>, at: Option<&str>) -> ScheduleConfig {
        ScheduleConfig {
            every: every.map(str::to_string),
            at: at.map(str::to_string),
        }
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            Schedule::parse(&cfg(Some("6h"), None)).unwrap(),
            Schedule::Every(6 * 3600)
        );
        assert_eq!(
            Schedule::parse(&cfg(None, Some("03:30"))).unwrap(),
            Schedule::Daily {
                hour: 3,
                minute: 30
            }
        );
        assert_eq!(
            Schedule::parse(&cfg(None, Some("weekly"))).unwrap(),
            Schedule::Weekly
        );
        for bad in [
            cfg(None, None),
            cfg(Some("6h"), Some("daily")),
            cfg(Some("5s"), None),
            cfg(Some("soon"), None),
            cfg(None, Some("25:00")),
            cfg(None, Some("tuesdayish")),
        ] {
            assert!(Schedule::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn next_runs() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let cet = FixedOffset::east_opt(3600).unwrap();
        // 2026-11-26 11:20:00 UTC, a Thursday.
        let now = 1_795_692_000;
        let every = Schedule::Every(6 * 3600);
        assert_eq!(every.next_run_in(&utc, now, None), now + 1);
        assert_eq!(
            every.next_run_in(&utc, now, Some(now - 3600)),
            now + 5 * 3600
        );
        assert_eq!(every.next_run_in(&utc, now, Some(now - 7 * 3600)), now + 1);
        let daily = Schedule::Daily {
            hour: 3,
            minute: 30,
        };
        // Next 03:30 UTC is tomorrow: 2026-11-27 03:30 UTC.
        assert_eq!(daily.next_run_in(&utc, now, None), 1_795_750_200);
        // 03:30 CET is 02:30 UTC.
        assert_eq!(daily.next_run_in(&cet, now, None), 1_795_750_200 - 3600);
        let noon = Schedule::Daily {
            hour: 12,
            minute: 0,
        };
        assert_eq!(noon.next_run_in(&utc, now, None), now + 40 * 60);
        assert_eq!(Schedule::Hourly.next_run_in(&utc, now, None), now + 40 * 60);
        // Next Monday 00:00 UTC: 2026-11-30.
        assert_eq!(Schedule::Weekly.next_run_in(&utc, now, None), 1_795_996_800);
        // Always strictly later, even exactly at the boundary.
        let at = Schedule::Hourly.next_run_in(&utc, now, None);
        assert!(Schedule::Hourly.next_run_in(&utc, at, None) == at + 3600);
    }
}
