//! The Sign-In-With-X message (EIP-4361 for Ethereum, CAIP-122 for Solana) a CACAO's signature
//! covers, built byte for byte as `@didtools/cacao` 3.x builds it (`SiwxMessage.fromCacao`,
//! `asString`, `asLegacyChainIdString`), and a strict parser for it.

use crate::cacao::CacaoError;

/// A SIWx message's fields, as `@didtools/cacao`'s `SiwxMessage` holds them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiweMessage {
    /// The chain name in the first line: `Ethereum` or `Solana`.
    pub chain_name: String,
    /// The RFC 4501 authority asking for the signature.
    pub domain: String,
    /// The account address as it is printed.
    pub address: String,
    /// The human-readable statement (absent or empty: no statement paragraph).
    pub statement: Option<String>,
    /// The URI (for Ceramic sessions: the session did:key).
    pub uri: String,
    /// The message version (`1`).
    pub version: String,
    /// The CAIP-2 chain reference.
    pub chain_id: String,
    /// The nonce.
    pub nonce: String,
    /// The issue time, ISO 8601.
    pub issued_at: String,
    /// The expiry, ISO 8601.
    pub expiration_time: Option<String>,
    /// Not valid before, ISO 8601.
    pub not_before: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    /// The resources (absent or empty: no `Resources:` block).
    pub resources: Option<Vec<String>>,
}

/// JS truthiness of an optional string: present and non-empty.
fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

impl SiweMessage {
    fn prefix(&self, address: &str) -> String {
        let mut prefix = format!(
            "{} wants you to sign in with your {} account:\n{}",
            self.domain, self.chain_name, address
        );
        if let Some(statement) = present(&self.statement) {
            prefix.push_str("\n\n");
            prefix.push_str(statement);
        }
        prefix
    }

    fn optional_lines(&self, lines: &mut Vec<String>) {
        if let Some(exp) = present(&self.expiration_time) {
            lines.push(format!("Expiration Time: {exp}"));
        }
        if let Some(nbf) = present(&self.not_before) {
            lines.push(format!("Not Before: {nbf}"));
        }
        if let Some(id) = present(&self.request_id) {
            lines.push(format!("Request ID: {id}"));
        }
    }

    /// The message (`asString`): `Chain ID` before `Nonce`, resources only when there are some.
    /// `address` overrides the printed address (`toMessageEip55` passes the checksummed one).
    pub fn to_message_with_address(&self, address: &str) -> String {
        let mut lines = vec![
            format!("URI: {}", self.uri),
            format!("Version: {}", self.version),
            format!("Chain ID: {}", self.chain_id),
            format!("Nonce: {}", self.nonce),
            format!("Issued At: {}", self.issued_at),
        ];
        self.optional_lines(&mut lines);
        if let Some(resources) = self.resources.as_ref().filter(|r| !r.is_empty()) {
            lines.push(resources_block(resources));
        }
        format!("{}\n\n{}", self.prefix(address), lines.join("\n"))
    }

    /// The message with the address as held (`toMessage`).
    pub fn to_message(&self) -> String {
        self.to_message_with_address(&self.address)
    }

    /// The CACAO v1 message (`asLegacyChainIdString`, CACAOs issued up to 2022-09-20):
    /// `Chain ID` after `Request ID`, and a `Resources:` line whenever resources are present.
    pub fn to_legacy_message(&self) -> String {
        let mut lines = vec![
            format!("URI: {}", self.uri),
            format!("Version: {}", self.version),
            format!("Nonce: {}", self.nonce),
            format!("Issued At: {}", self.issued_at),
        ];
        self.optional_lines(&mut lines);
        if !self.chain_id.is_empty() {
            lines.push(format!("Chain ID: {}", self.chain_id));
        }
        if let Some(resources) = &self.resources {
            lines.push(resources_block(resources));
        }
        format!("{}\n\n{}", self.prefix(&self.address), lines.join("\n"))
    }

    /// Parses a message in the current form ([`SiweMessage::to_message`]). Strict: the text must
    /// be exactly what [`SiweMessage::to_message`] prints for the fields read, so
    /// `parse(t)?.to_message() == t` for every accepted `t`.
    ///
    /// # Errors
    /// [`CacaoError::InvalidMessage`] naming the first line that does not fit.
    pub fn parse(text: &str) -> Result<Self, CacaoError> {
        let bad = |what| CacaoError::InvalidMessage(what);
        let mut lines = text.split('\n');
        let header = lines.next().ok_or(bad("empty"))?;
        let (domain, chain_name) = header
            .strip_suffix(" account:")
            .and_then(|h| h.split_once(" wants you to sign in with your "))
            .ok_or(bad(
                "the first line is not `<domain> wants you to sign in with your <chain> account:`",
            ))?;
        let address = lines.next().ok_or(bad("no address line"))?;
        if lines.next() != Some("") {
            return Err(bad("no blank line after the address"));
        }
        let mut next = lines.next().ok_or(bad("no URI line"))?;
        let mut statement = None;
        if !next.starts_with("URI: ") {
            statement = Some(next.to_string());
            if lines.next() != Some("") {
                return Err(bad("no blank line after the statement"));
            }
            next = lines.next().ok_or(bad("no URI line"))?;
        }
        let field = |line: Option<&str>, name: &'static str| -> Result<String, CacaoError> {
            line.and_then(|l| l.strip_prefix(name))
                .map(str::to_string)
                .ok_or(CacaoError::InvalidMessage(name))
        };
        let uri = field(Some(next), "URI: ")?;
        let version = field(lines.next(), "Version: ")?;
        let chain_id = field(lines.next(), "Chain ID: ")?;
        let nonce = field(lines.next(), "Nonce: ")?;
        let issued_at = field(lines.next(), "Issued At: ")?;
        let mut message = SiweMessage {
            chain_name: chain_name.to_string(),
            domain: domain.to_string(),
            address: address.to_string(),
            statement,
            uri,
            version,
            chain_id,
            nonce,
            issued_at,
            ..SiweMessage::default()
        };
        let mut line = lines.next();
        for (name, slot) in [
            ("Expiration Time: ", &mut message.expiration_time),
            ("Not Before: ", &mut message.not_before),
            ("Request ID: ", &mut message.request_id),
        ] {
            if let Some(value) = line.and_then(|l| l.strip_prefix(name)) {
                *slot = Some(value.to_string());
                line = lines.next();
            }
        }
        if line == Some("Resources:") {
            let mut resources = Vec::new();
            for l in lines.by_ref() {
                resources.push(
                    l.strip_prefix("- ")
                        .ok_or(bad("a resource line is not `- <uri>`"))?
                        .to_string(),
                );
            }
            message.resources = Some(resources);
        } else if line.is_some() {
            return Err(bad("unexpected line after the fields"));
        }
        // Empty values print nothing, and values holding a newline print as other fields:
        // refuse what does not print back to the same text.
        if message.to_message() != text {
            return Err(bad("the fields do not print back to the same message"));
        }
        Ok(message)
    }
}

fn resources_block(resources: &[String]) -> String {
    let mut block = String::from("Resources:");
    for r in resources {
        block.push_str("\n- ");
        block.push_str(r);
    }
    block
}

/// Parses the ISO 8601 date-time forms JS `Date.parse` reads in CACAOs (`YYYY-MM-DDTHH:MM:SS`,
/// optional fraction, `Z` or `±HH:MM`) into Unix milliseconds.
///
/// # Errors
/// [`CacaoError::InvalidTime`].
pub fn parse_time(field: &'static str, text: &str) -> Result<i64, CacaoError> {
    let bad = || CacaoError::InvalidTime { field, value: text.chars().take(64).collect() };
    let b = text.as_bytes();
    // ASCII only, so that the byte offsets below are character boundaries.
    if b.len() < 20 || b.len() > 40 || !text.is_ascii() {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, CacaoError> {
        let s = text.get(range).ok_or_else(bad)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let first3: String = frac[..digits].chars().chain("00".chars()).take(3).collect();
        millis = first3.parse::<i64>().map_err(|_| bad())?;
        rest = &frac[digits..];
    }
    let offset_minutes = match rest {
        "Z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let h: i64 = rest[1..3].parse().map_err(|_| bad())?;
            let m: i64 = rest[4..6].parse().map_err(|_| bad())?;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            if rest.starts_with('-') { -(h * 60 + m) } else { h * 60 + m }
        }
        _ => return Err(bad()),
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day < 1 || day > days_in_month || hour > 24 || minute > 59 || second > 59 {
        return Err(bad());
    }
    if hour == 24 && (minute, second, millis) != (0, 0, 0) {
        return Err(bad());
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SiweMessage {
        SiweMessage {
            chain_name: "Ethereum".into(),
            domain: "app.example.org".into(),
            address: "0x048ffe2432385d31369acdcb65760d1e60b97688".into(),
            statement: Some("Give this application access".into()),
            uri: "did:key:z6Mk".into(),
            version: "1".into(),
            chain_id: "1".into(),
            nonce: "abcdefgh12".into(),
            issued_at: "2026-01-01T00:00:00.000Z".into(),
            expiration_time: Some("2026-01-08T00:00:00.000Z".into()),
            not_before: None,
            request_id: Some("r1".into()),
            resources: Some(vec!["ceramic://*".into(), "ceramic://kjz".into()]),
        }
    }

    #[test]
    fn prints_and_parses_the_current_form() {
        let m = sample();
        let text = m.to_message();
        assert!(text.contains("Chain ID: 1\nNonce: abcdefgh12\n"), "{text}");
        assert_eq!(SiweMessage::parse(&text).unwrap(), m);
        let legacy = m.to_legacy_message();
        assert!(legacy.contains("Request ID: r1\nChain ID: 1\nResources:"), "{legacy}");
        assert!(SiweMessage::parse(&legacy).is_err());
    }

    #[test]
    fn rejects_messages_that_do_not_print_back() {
        let mut m = sample();
        m.statement = Some(String::new());
        m.resources = Some(vec![]);
        let text = m.to_message();
        let parsed = SiweMessage::parse(&text).unwrap();
        assert_eq!(parsed.statement, None);
        assert_eq!(parsed.to_message(), text);
        for bad in ["", "x", "a wants you to sign in with your E account:\n0x\nURI: u"] {
            assert!(matches!(SiweMessage::parse(bad), Err(CacaoError::InvalidMessage(_))));
        }
    }

    #[test]
    fn parses_times_like_date_parse() {
        assert_eq!(parse_time("iat", "1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_time("iat", "2026-01-01T00:00:00.000Z").unwrap(), 1_767_225_600_000);
        assert_eq!(parse_time("iat", "2026-01-01T01:00:00.5+01:00").unwrap(), 1_767_225_600_500);
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "x",
            "2026-01-01T00:00:00\u{e9}\u{e9}",
            "2026-01-01T00:00:00+0\u{e9}:00",
        ] {
            assert!(parse_time("iat", bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_time_and_parse_never_panic(s in "\\PC{0,45}", t in "[0-9T:.Z+-]{18,30}") {
            let _ = parse_time("iat", &s);
            let _ = parse_time("iat", &t);
            let _ = SiweMessage::parse(&s);
        }

        #[test]
        fn parse_inverts_to_message(
            domain in "[a-z.]{1,20}", nonce in "[a-zA-Z0-9]{8,12}", statement in proptest::option::of("[a-z][ -~]{0,39}"),
            resources in proptest::option::of(proptest::collection::vec("ceramic://[a-z0-9*]{1,20}", 1..4)),
            exp in proptest::option::of("20[0-9]{2}-01-01T00:00:00.000Z"),
        ) {
            let m = SiweMessage { domain, nonce, statement, resources, expiration_time: exp, ..sample() };
            proptest::prop_assert_eq!(SiweMessage::parse(&m.to_message()).unwrap(), m);
        }
    }
}
