//! Query parameters as the apiserver reads them (reference §0, §1.1, §2.1).

use std::collections::BTreeMap;

/// The decoded query string; the first value of a repeated key wins. It also carries the one
/// fact from the headers that changes how the answer is rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Query {
    values: BTreeMap<String, String>,
    /// The `Accept` header asks for `PartialObjectMetadata` (metadata-only clients).
    pub(crate) metadata_only: bool,
    /// The `Accept` header asks for a `Table` (kubectl), and what its rows carry.
    pub(crate) table: Option<super::table_printer::Include>,
    /// The `Accept` header asks for aggregated discovery.
    pub(crate) aggregated: bool,
    /// The `Accept-Encoding` header names `gzip`.
    pub(crate) gzip: bool,
    /// The replica the load balancer sent it to.
    pub(crate) replica: super::replicas::ReplicaId,
}

/// Whether an `Accept-Encoding` header names `gzip`, read as the apiserver reads it: its first
/// value only, split at commas, a token that is exactly `gzip` once trimmed (so `gzip;q=1`
/// is not) (`ContentEncodingSupported` in apiserver
/// `endpoints/handlers/responsewriters/compression.go`).
pub(crate) fn accepts_gzip(header: Option<&http::HeaderValue>) -> bool {
    header
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|token| token.trim() == "gzip"))
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let mut values = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            values
                .entry(k.into_owned())
                .or_insert_with(|| v.into_owned());
        }
        Self {
            values,
            metadata_only: false,
            table: None,
            aggregated: false,
            gzip: false,
            replica: super::replicas::ReplicaId::default(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Booleans are false only when absent, `0` or `false` in any case; anything else,
    /// an empty value included, is true (apimachinery `runtime/conversion.go`).
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    }

    /// An integer parameter; the error is a 400 message.
    pub(crate) fn integer(&self, key: &str) -> Result<Option<i64>, String> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| format!("invalid value for {key}: {v:?} is not an integer"))
            })
            .transpose()
    }
}

/// A `resourceVersion` parameter: unset or `""`, `"0"`, or a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    Unset,
    Zero,
    At(u64),
}

impl Version {
    /// The revision it names, if it names one.
    pub(crate) fn revision(self) -> Option<u64> {
        match self {
            Self::At(n) => Some(n),
            Self::Unset | Self::Zero => None,
        }
    }

    /// Parses the parameter; the error is a 400 message.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw {
            None | Some("") => Ok(Self::Unset),
            Some(v) => match v.parse::<u64>() {
                Ok(0) => Ok(Self::Zero),
                Ok(n) => Ok(Self::At(n)),
                Err(_) => Err(format!("invalid resource version: {v:?}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_accepted_only_as_a_whole_token_of_the_first_value() {
        let header = |v: &str| Some(http::HeaderValue::from_str(v).unwrap());
        assert!(accepts_gzip(header("gzip").as_ref()));
        assert!(accepts_gzip(header("deflate, gzip").as_ref()));
        assert!(!accepts_gzip(header("identity").as_ref()));
        assert!(
            !accepts_gzip(header("gzip;q=1.0").as_ref()),
            "Go compares the whole token"
        );
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn booleans_are_false_only_when_absent_zero_or_false() {
        let q = Query::parse(Some("watch&a=1&b=True&c=0&d=FALSE&e="));
        assert!(q.flag("watch"));
        assert!(q.flag("a") && q.flag("b") && q.flag("e"));
        assert!(!q.flag("c") && !q.flag("d") && !q.flag("absent"));
    }

    #[test]
    fn values_are_percent_decoded() {
        let q = Query::parse(Some("labelSelector=app%3Dweb%2Ctier%21%3Ddb"));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier!=db"));
    }

    #[test]
    fn resource_versions_distinguish_unset_zero_and_revisions() {
        assert_eq!(Version::parse(None), Ok(Version::Unset));
        assert_eq!(Version::parse(Some("")), Ok(Version::Unset));
        assert_eq!(Version::parse(Some("0")), Ok(Version::Zero));
        assert_eq!(Version::parse(Some("42")), Ok(Version::At(42)));
        assert!(Version::parse(Some("abc")).is_err());
    }
}
