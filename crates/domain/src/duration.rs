use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative duration written the way Go's `time.Duration` writes and parses it
/// (`10m0s`, `1h10m30s`, `720h0m0s`, `1.5h`, `300ms`): the syntax of Cloudentity ACP's TTL fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GoDuration {
    nanos: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected e.g. \"10m0s\", \"1h30m\", \"720h0m0s\")")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

const NS: u64 = 1;
const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;
const M: u64 = 60 * S;
const H: u64 = 60 * M;

impl GoDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self { nanos: secs * S }
    }

    pub const fn as_secs(&self) -> u64 {
        self.nanos / S
    }

    pub const fn as_nanos(&self) -> u64 {
        self.nanos
    }

    pub fn parse(input: &str) -> Result<Self, DurationError> {
        let err = |reason| DurationError {
            input: input.to_owned(),
            reason,
        };
        let mut s = input;
        if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        } else if s.starts_with('-') {
            return Err(err("must not be negative"));
        }
        if s == "0" {
            return Ok(Self { nanos: 0 });
        }
        if s.is_empty() {
            return Err(err("empty"));
        }
        let mut total: u128 = 0;
        while !s.is_empty() {
            let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let (int_part, rest) = s.split_at(int_len);
            let (frac_part, rest) = match rest.strip_prefix('.') {
                Some(r) => {
                    let n = r.bytes().take_while(u8::is_ascii_digit).count();
                    r.split_at(n)
                }
                None => ("", rest),
            };
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(err("expected a number"));
            }
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit() || *c == '.')
                .map_or(rest.len(), |(i, _)| i);
            let (unit, rest) = rest.split_at(unit_len);
            let scale = match unit {
                "ns" => NS,
                "us" | "µs" | "μs" => US,
                "ms" => MS,
                "s" => S,
                "m" => M,
                "h" => H,
                "" => return Err(err("missing unit")),
                _ => return Err(err("unknown unit")),
            };
            let int: u128 = if int_part.is_empty() {
                0
            } else {
                int_part.parse().map_err(|_| err("number too large"))?
            };
            let mut value = int.checked_mul(u128::from(scale)).ok_or_else(|| err("too large"))?;
            // Fractions are exact down to the nanosecond; further digits are dropped, as Go does.
            let mut place = u128::from(scale);
            for d in frac_part.bytes() {
                place /= 10;
                if place == 0 {
                    break;
                }
                value += u128::from(d - b'0') * place;
            }
            total = total.checked_add(value).ok_or_else(|| err("too large"))?;
            s = rest;
        }
        let nanos = u64::try_from(total).map_err(|_| err("too large"))?;
        Ok(Self { nanos })
    }
}

fn write_frac(f: &mut fmt::Formatter<'_>, value: u64, unit: u64, suffix: &str) -> fmt::Result {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return write!(f, "{whole}{suffix}");
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    write!(f, "{whole}.{}{suffix}", digits.trim_end_matches('0'))
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.nanos;
        if n == 0 {
            return f.write_str("0s");
        }
        if n < US {
            return write!(f, "{n}ns");
        }
        if n < MS {
            return write_frac(f, n, US, "µs");
        }
        if n < S {
            return write_frac(f, n, MS, "ms");
        }
        let h = n / H;
        let m = (n % H) / M;
        let rest = n % M;
        if h > 0 {
            write!(f, "{h}h{m}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        write_frac(f, rest, S, "s")
    }
}

impl TryFrom<String> for GoDuration {
    type Error = DurationError;
    fn try_from(s: String) -> Result<Self, DurationError> {
        Self::parse(&s)
    }
}

impl From<GoDuration> for String {
    fn from(d: GoDuration) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> GoDuration {
        GoDuration::parse(s).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(GoDuration::from_secs(600).to_string(), "10m0s");
        assert_eq!(GoDuration::from_secs(3600).to_string(), "1h0m0s");
        assert_eq!(GoDuration::from_secs(30 * 24 * 3600).to_string(), "720h0m0s");
        assert_eq!(GoDuration::from_secs(4230).to_string(), "1h10m30s");
        assert_eq!(GoDuration::from_secs(45).to_string(), "45s");
        assert_eq!(GoDuration::from_secs(0).to_string(), "0s");
        assert_eq!(p("1.5s").to_string(), "1.5s");
        assert_eq!(p("300ms").to_string(), "300ms");
        assert_eq!(p("1500us").to_string(), "1.5ms");
        assert_eq!(p("7ns").to_string(), "7ns");
    }

    #[test]
    fn parses_go_syntax() {
        assert_eq!(p("1h10m30s").as_secs(), 4230);
        assert_eq!(p("720h0m0s").as_secs(), 2_592_000);
        assert_eq!(p("1.5h").as_secs(), 5400);
        assert_eq!(p("90m").as_secs(), 5400);
        assert_eq!(p("0").as_secs(), 0);
        assert_eq!(p("2h45m").to_string(), "2h45m0s");
        assert_eq!(p("1µs").as_nanos(), 1000);
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["", "10", "-1h", "1x", "h", "1h-5m", "1.h5", "99999999999999999999h"] {
            assert!(GoDuration::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn round_trips() {
        for s in ["10m0s", "1h0m0s", "720h0m0s", "1h10m30s", "1.25s", "12ms"] {
            assert_eq!(p(s).to_string(), s);
        }
    }
}
