//! The units of scenario files: durations (`"250ms"`, `"1m30s"`) and probabilities
//! (`"1%"`, `"0.5%"`, `"1/200"`).

use sim_core::{Chance, SimDuration};

/// Parses a duration: a sequence of `<number><unit>` with units `h`, `m`, `s`, `ms`,
/// `us`, `ns` (`"1h30m"`, `"2.5s"`, `"250ms"`). Returns what is wrong in words.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let hint = "expected a duration like \"10s\", \"250ms\" or \"1m30s\"";
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("empty duration; {hint}"));
    }
    if let Some(magnitude) = text.strip_prefix('-') {
        return Err(format!(
            "\"{text}\" is negative; a duration is a length of time, like \"{magnitude}\""
        ));
    }
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("\"{text}\" has a number without a unit; {hint}"))?;
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let per_unit: u128 = match unit {
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" | "µs" => 1_000,
            "ns" => 1,
            _ => return Err(format!("unknown unit \"{unit}\" in \"{text}\"; {hint}")),
        };
        total += scaled(number, per_unit)
            .ok_or_else(|| format!("bad number \"{number}\" in \"{text}\"; {hint}"))?;
        rest = next;
    }
    u64::try_from(total)
        .map(SimDuration::from_nanos)
        .map_err(|_| format!("\"{text}\" is too long (more than 584 years)"))
}

/// `number × per_unit` for a decimal like `2.5`, exactly, if it is a whole number of
/// nanoseconds.
fn scaled(number: &str, per_unit: u128) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(per_unit)?;
    let mut scale = per_unit;
    for digit in fraction.chars() {
        scale /= 10;
        if scale == 0 {
            return None; // finer than a nanosecond
        }
        value += u128::from(digit.to_digit(10)?) * scale;
    }
    Some(value)
}

/// Writes a duration the way scenario files spell it (`"1m30s"`, `"250ms"`).
pub fn format_duration(duration: SimDuration) -> String {
    let nanos = duration.as_nanos();
    let units = [
        (3_600_000_000_000_u64, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if nanos == 0 {
        return "0s".to_string();
    }
    let mut rest = nanos;
    let mut text = String::new();
    for (size, unit) in units {
        if rest >= size {
            text.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    text
}

/// Parses a probability: `"5%"`, `"0.25%"`, `"1/200"`, `"0"` or `"1"`.
pub fn parse_chance(text: &str) -> Result<Chance, String> {
    let hint = "expected a probability like \"5%\", \"0.5%\" or \"1/200\"";
    let text = text.trim();
    let chance = if let Some(percent) = text.strip_suffix('%') {
        let value = scaled(percent.trim(), 10_000)
            .ok_or_else(|| format!("bad percentage \"{text}\"; {hint}"))?;
        let numerator = u32::try_from(value).map_err(|_| format!("\"{text}\" is above 100%"))?;
        (numerator, 1_000_000)
    } else if let Some((numerator, denominator)) = text.split_once('/') {
        let parse = |part: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("bad ratio \"{text}\"; {hint}"))
        };
        (parse(numerator)?, parse(denominator)?)
    } else {
        match text {
            "0" => (0, 1),
            "1" => (1, 1),
            _ => return Err(format!("\"{text}\" is not a probability; {hint}")),
        }
    };
    let (numerator, denominator) = chance;
    if denominator == 0 {
        return Err(format!("\"{text}\" divides by zero; {hint}"));
    }
    if numerator > denominator {
        return Err(format!(
            "\"{text}\" is above 100%; a probability is at most 1"
        ));
    }
    Ok(Chance::new(numerator, denominator))
}

/// Writes a probability the way scenario files spell it.
pub fn format_chance(chance: Chance) -> String {
    if chance.denominator == 1_000_000 && chance.numerator.is_multiple_of(100) {
        let hundredths = chance.numerator / 100;
        if hundredths.is_multiple_of(100) {
            return format!("{}%", hundredths / 100);
        }
        return format!("{}.{:02}%", hundredths / 100, hundredths % 100)
            .trim_end_matches('0')
            .to_string();
    }
    format!("{}/{}", chance.numerator, chance.denominator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_combination() {
        let ms = SimDuration::from_millis;
        assert_eq!(parse_duration("250ms"), Ok(ms(250)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("2.5s"), Ok(ms(2_500)));
        assert_eq!(parse_duration("1h"), Ok(SimDuration::from_hours(1)));
        assert_eq!(parse_duration("7ns"), Ok(SimDuration::from_nanos(7)));
        assert_eq!(parse_duration("3us"), Ok(SimDuration::from_micros(3)));
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for bad in ["", "10", "10x", "s", "1.5.5s", "0.0000000001s"] {
            let error = parse_duration(bad).unwrap_err();
            assert!(
                error.contains("expected a duration") || error.contains("too long"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn durations_round_trip_through_their_spelling() {
        for text in ["1h2m3s", "250ms", "0s", "1s500ms", "7ns"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn chances_parse_from_percentages_and_ratios() {
        assert_eq!(parse_chance("5%"), Ok(Chance::new(50_000, 1_000_000)));
        assert_eq!(parse_chance("0.25%"), Ok(Chance::new(2_500, 1_000_000)));
        assert_eq!(parse_chance("1/200"), Ok(Chance::new(1, 200)));
        assert_eq!(parse_chance("0"), Ok(Chance::new(0, 1)));
        assert!(parse_chance("150%").unwrap_err().contains("above 100%"));
        assert!(parse_chance("1/0").unwrap_err().contains("zero"));
        assert!(
            parse_chance("often")
                .unwrap_err()
                .contains("expected a probability")
        );
    }

    #[test]
    fn chances_round_trip_through_their_spelling() {
        for text in ["5%", "0.25%", "1/200", "100%"] {
            assert_eq!(format_chance(parse_chance(text).unwrap()), text);
        }
    }
}
