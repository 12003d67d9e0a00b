//! Typed API errors.

use std::fmt;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// A Tencent Cloud error code. The codes the reconciler acts on are variants; every other code is
        /// kept as a string, in a family variant when its prefix is one the reconciler cares about
        /// (`RequestLimitExceeded.*`, `AuthFailure.*`, ...) or in [`ErrorCode::Other`]. [`ErrorCode::as_str`]
        /// always gives the raw code back.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            /// `AuthFailure.<something else>`.
            AuthFailureOther(String),
            /// `RequestLimitExceeded.<something>` (e.g. `RequestLimitExceeded.UinLimitExceeded`).
            RequestLimitExceededOther(String),
            /// `InvalidParameter.<something else>`.
            InvalidParameterOther(String),
            /// `InvalidParameterValue.<something else>`.
            InvalidParameterValueOther(String),
            /// `LimitExceeded.<something else>`.
            LimitExceededOther(String),
            /// `ResourceNotFound.<something else>`.
            ResourceNotFoundOther(String),
            /// `UnsupportedOperation.<something else>`.
            UnsupportedOperationOther(String),
            /// Any other code.
            Other(String),
        }

        impl ErrorCode {
            /// Classifies a raw code.
            pub fn parse(code: &str) -> ErrorCode {
                match code {
                    $( $code => ErrorCode::$variant, )*
                    c if c.starts_with("AuthFailure.") => ErrorCode::AuthFailureOther(c.to_string()),
                    c if c.starts_with("RequestLimitExceeded.") => ErrorCode::RequestLimitExceededOther(c.to_string()),
                    c if c.starts_with("InvalidParameter.") => ErrorCode::InvalidParameterOther(c.to_string()),
                    c if c.starts_with("InvalidParameterValue.") => ErrorCode::InvalidParameterValueOther(c.to_string()),
                    c if c.starts_with("LimitExceeded.") => ErrorCode::LimitExceededOther(c.to_string()),
                    c if c.starts_with("ResourceNotFound.") => ErrorCode::ResourceNotFoundOther(c.to_string()),
                    c if c.starts_with("UnsupportedOperation.") => ErrorCode::UnsupportedOperationOther(c.to_string()),
                    c => ErrorCode::Other(c.to_string()),
                }
            }

            /// The raw code, exactly as the server sent it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrorCode::$variant => $code, )*
                    ErrorCode::AuthFailureOther(c)
                    | ErrorCode::RequestLimitExceededOther(c)
                    | ErrorCode::InvalidParameterOther(c)
                    | ErrorCode::InvalidParameterValueOther(c)
                    | ErrorCode::LimitExceededOther(c)
                    | ErrorCode::ResourceNotFoundOther(c)
                    | ErrorCode::UnsupportedOperationOther(c)
                    | ErrorCode::Other(c) => c,
                }
            }
        }
    };
}

error_codes! {
    AuthFailure => "AuthFailure",
    AuthFailureSignatureFailure => "AuthFailure.SignatureFailure",
    /// The request's timestamp is more than 5 minutes from the server's clock. Re-signing with a fresh
    /// timestamp may help (the request was not acted on).
    AuthFailureSignatureExpire => "AuthFailure.SignatureExpire",
    AuthFailureSecretIdNotFound => "AuthFailure.SecretIdNotFound",
    AuthFailureInvalidAuthorization => "AuthFailure.InvalidAuthorization",
    AuthFailureTokenFailure => "AuthFailure.TokenFailure",
    AuthFailureInvalidSecretId => "AuthFailure.InvalidSecretId",
    AuthFailureUnauthorizedOperation => "AuthFailure.UnauthorizedOperation",
    AuthFailureMfaFailure => "AuthFailure.MFAFailure",
    RequestLimitExceeded => "RequestLimitExceeded",
    InternalError => "InternalError",
    InvalidAction => "InvalidAction",
    MissingParameter => "MissingParameter",
    UnknownParameter => "UnknownParameter",
    InvalidParameter => "InvalidParameter",
    InvalidParameterValue => "InvalidParameterValue",
    InvalidParameterValueTooLong => "InvalidParameterValue.TooLong",
    InvalidParameterValueRange => "InvalidParameterValue.Range",
    InvalidParameterValueMalformed => "InvalidParameterValue.Malformed",
    InvalidParameterValueDuplicate => "InvalidParameterValue.Duplicate",
    InvalidParameterValueTagDuplicateKey => "InvalidParameterValue.TagDuplicateKey",
    InvalidParameterValueCidrConflict => "InvalidParameterValue.CidrConflict",
    InvalidParameterValueVpcCidrConflict => "InvalidParameterValue.VpcCidrConflict",
    InvalidParameterValueVpnConnCidrConflict => "InvalidParameterValue.VpnConnCidrConflict",
    InvalidParameterValueVpnConnSpdCidrConflict => "InvalidParameterValue.VpnConnSpdCidrConflict",
    InvalidParameterValueVpnConnBgpTunnelCidrConflict => "InvalidParameterValue.VpnConnBgpTunnelCidrConflict",
    InvalidParameterValueVpnConnBgpTunnelCidrMask => "InvalidParameterValue.VpnConnBgpTunnelCidrMask",
    InvalidParameterValueVpnConnBgpTunnelCidrNotSupported => "InvalidParameterValue.VpnConnBgpTunnelCidrNotSupported",
    InvalidParameterValueVpnConnHealthCheckIpConflict => "InvalidParameterValue.VpnConnHealthCheckIpConflict",
    InvalidParameterValueBandwidthOutOfRange => "InvalidParameterValue.BandwidthOutOfRange",
    InvalidVpnGatewayIdMalformed => "InvalidVpnGatewayId.Malformed",
    InvalidVpnGatewayIdNotFound => "InvalidVpnGatewayId.NotFound",
    InvalidVpcIdMalformed => "InvalidVpcId.Malformed",
    LimitExceeded => "LimitExceeded",
    ResourceNotFound => "ResourceNotFound",
    ResourceInUse => "ResourceInUse",
    ResourceBusy => "ResourceBusy",
    ResourceUnavailable => "ResourceUnavailable",
    UnauthorizedOperation => "UnauthorizedOperation",
    UnsupportedOperation => "UnsupportedOperation",
    /// The connection is not `AVAILABLE` (being created or deleted).
    UnsupportedOperationVpnConnInvalidState => "UnsupportedOperation.VpnConnInvalidState",
    /// Delete of a connection that is not `AVAILABLE`.
    UnsupportedOperationDeleteVpnConnInvalidState => "UnsupportedOperation.DeleteVpnConnInvalidState",
    UnsupportedOperationInvalidState => "UnsupportedOperation.InvalidState",
    UnsupportedOperationResourceIsInvalidState => "UnsupportedOperation.ResourceIsInvalidState",
    FailedOperation => "FailedOperation",
}

impl ErrorCode {
    /// `RequestLimitExceeded` or any `RequestLimitExceeded.*`.
    pub fn is_rate_limited(&self) -> bool {
        matches!(
            self,
            ErrorCode::RequestLimitExceeded | ErrorCode::RequestLimitExceededOther(_)
        )
    }

    /// `AuthFailure` or any `AuthFailure.*`.
    pub fn is_auth_failure(&self) -> bool {
        family(self.as_str(), "AuthFailure")
    }

    /// The resource does not exist: `ResourceNotFound*` or a code naming `NotFound`
    /// (`InvalidVpnGatewayId.NotFound`, `InvalidParameterValue.ResourceNotFound`, ...). Not the
    /// codes that name `NotFound` about something else: the credentials
    /// (`AuthFailure.SecretIdNotFound`), a permission (`UnauthorizedOperation.*`), an unsupported
    /// request (`UnsupportedOperation.ActionNotFound`, `.UinNotFound`) or a failed operation.
    /// Taking those for "the object is gone" would make a refresh drop every object it reads,
    /// and a plan create them all again.
    pub fn is_not_found(&self) -> bool {
        let c = self.as_str();
        let about_something_else = [
            "AuthFailure",
            "UnauthorizedOperation",
            "UnsupportedOperation",
            "FailedOperation",
        ]
        .iter()
        .any(|f| family(c, f));
        !about_something_else && c.contains("NotFound")
    }

    /// The request itself is wrong: `InvalidParameter*`, `MissingParameter*`, `UnknownParameter*`,
    /// `Invalid*Id.Malformed`.
    pub fn is_invalid_request(&self) -> bool {
        let c = self.as_str();
        family(c, "InvalidParameter")
            || family(c, "InvalidParameterValue")
            || family(c, "MissingParameter")
            || family(c, "UnknownParameter")
            || c == "InvalidParameterConflict"
            || (c.starts_with("Invalid") && c.ends_with(".Malformed"))
    }

    /// A quota is exhausted: `LimitExceeded*`.
    pub fn is_limit_exceeded(&self) -> bool {
        family(self.as_str(), "LimitExceeded")
    }

    /// The resource is in a state that does not allow the operation yet (`UnsupportedOperation.*InvalidState`).
    pub fn is_invalid_state(&self) -> bool {
        let c = self.as_str();
        c.starts_with("UnsupportedOperation.") && c.ends_with("InvalidState")
    }

    /// `ResourceInUse*` or `ResourceBusy*`: the server refused without acting; may succeed later.
    pub fn is_in_use_or_busy(&self) -> bool {
        let c = self.as_str();
        family(c, "ResourceInUse") || family(c, "ResourceBusy")
    }

    /// `InternalError*`.
    pub fn is_internal_error(&self) -> bool {
        family(self.as_str(), "InternalError")
    }
}

/// `code` is `prefix` or `prefix.*`.
fn family(code: &str, prefix: &str) -> bool {
    code.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        ErrorCode::parse(s)
    }
}

/// What went wrong with a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The API answered with an error (HTTP 200, `Response.Error`).
    Api { code: ErrorCode, message: String },
    /// The request provably did not reach the server (connection refused, DNS, TLS handshake, connect
    /// timeout). Safe to re-send.
    NotSent { reason: String },
    /// The request was (or may have been) sent but no usable answer came back: connection reset or closed
    /// mid-way, a timeout after sending, HTTP 5xx. The server may or may not have acted.
    OutcomeUnknown {
        reason: String,
        http_status: Option<u16>,
    },
    /// An HTTP status other than 200 or 5xx (e.g. a proxy's 404 or 413). The request was not handled by
    /// the API.
    UnexpectedStatus { status: u16 },
    /// A 200 answer that is not a valid response of this action. Holds no response text (it may contain
    /// secrets), only serde's category and position.
    Decode { reason: String },
    /// The request could not be built (serialisation or signing failed); nothing was sent.
    InvalidRequest { reason: String },
}

impl ErrorKind {
    pub fn api_code(&self) -> Option<&ErrorCode> {
        match self {
            ErrorKind::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Api { code, message } => write!(f, "{code}: {message}"),
            ErrorKind::NotSent { reason } => write!(f, "request not sent: {reason}"),
            ErrorKind::OutcomeUnknown { reason, .. } => {
                write!(
                    f,
                    "outcome unknown (the request may have been processed): {reason}"
                )
            }
            ErrorKind::UnexpectedStatus { status } => write!(f, "unexpected HTTP status {status}"),
            ErrorKind::Decode { reason } => write!(f, "could not decode the response: {reason}"),
            ErrorKind::InvalidRequest { reason } => {
                write!(f, "could not build the request: {reason}")
            }
        }
    }
}

/// A failed call: the action, where, the server's request id if any, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    pub action: &'static str,
    /// The region the call was made in (`""` for a call without region).
    pub region: String,
    pub request_id: Option<String>,
    pub kind: ErrorKind,
    /// How many attempts were made (1 = not retried).
    pub attempts: u32,
}

impl ApiError {
    /// The API error code, when the API answered with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.kind.api_code()
    }

    /// The server may have acted on the request (see [`ErrorKind::OutcomeUnknown`]).
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self.kind, ErrorKind::OutcomeUnknown { .. })
    }

    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_not_found)
    }

    pub fn is_rate_limited(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_rate_limited)
    }

    pub fn is_invalid_state(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_invalid_state)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.action)?;
        if !self.region.is_empty() {
            write!(f, " in {}", self.region)?;
        }
        write!(f, " failed: {}", self.kind)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_classify() {
        for (raw, expect) in [
            ("RequestLimitExceeded", ErrorCode::RequestLimitExceeded),
            (
                "RequestLimitExceeded.UinLimitExceeded",
                ErrorCode::RequestLimitExceededOther(
                    "RequestLimitExceeded.UinLimitExceeded".into(),
                ),
            ),
            (
                "AuthFailure.SignatureExpire",
                ErrorCode::AuthFailureSignatureExpire,
            ),
            (
                "UnsupportedOperation.VpnConnInvalidState",
                ErrorCode::UnsupportedOperationVpnConnInvalidState,
            ),
            ("Something.Else", ErrorCode::Other("Something.Else".into())),
        ] {
            let c = ErrorCode::parse(raw);
            assert_eq!(c, expect);
            assert_eq!(c.as_str(), raw);
        }
        assert!(
            ErrorCode::parse("RequestLimitExceeded.GlobalRegionUinLimitExceeded").is_rate_limited()
        );
        assert!(!ErrorCode::parse("RequestLimitExceededX").is_rate_limited());
        assert!(ErrorCode::parse("AuthFailure.Whatever").is_auth_failure());
        assert!(!ErrorCode::parse("AuthFailures").is_auth_failure());
        assert!(ErrorCode::parse("InvalidVpnGatewayId.NotFound").is_not_found());
        assert!(ErrorCode::parse("ResourceNotFound").is_not_found());
        assert!(ErrorCode::parse("InvalidParameterValue.ResourceNotFound").is_not_found());
        for other in [
            "AuthFailure.SecretIdNotFound",
            "UnauthorizedOperation.AttachmentNotFound",
            "UnsupportedOperation.ActionNotFound",
            "UnsupportedOperation.UinNotFound",
            "FailedOperation.MasterEniNotFound",
        ] {
            assert!(!ErrorCode::parse(other).is_not_found(), "{other}");
        }
        assert!(
            ErrorCode::parse("UnsupportedOperation.DeleteVpnConnInvalidState").is_invalid_state()
        );
        assert!(ErrorCode::parse("UnsupportedOperation.InvalidState").is_invalid_state());
        assert!(!ErrorCode::parse("UnsupportedOperation").is_invalid_state());
        assert!(ErrorCode::parse("InvalidParameterValue.TooLong").is_invalid_request());
        assert!(ErrorCode::parse("MissingParameter").is_invalid_request());
        assert!(ErrorCode::parse("UnknownParameter.WithGuess").is_invalid_request());
        assert!(ErrorCode::parse("InvalidVpcId.Malformed").is_invalid_request());
        assert!(ErrorCode::parse("LimitExceeded.TagQuota").is_limit_exceeded());
        assert!(ErrorCode::parse("ResourceBusy").is_in_use_or_busy());
        assert!(ErrorCode::parse("ResourceInUse.Address").is_in_use_or_busy());
        assert!(ErrorCode::parse("InternalError.ModuleError").is_internal_error());
    }

    #[test]
    fn every_documented_code_keeps_its_raw_string() {
        let tsv = include_str!("../tests/data/vpc-error-codes.tsv");
        let mut n = 0;
        for line in tsv.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let code = line.split('\t').next().unwrap();
            assert_eq!(ErrorCode::parse(code).as_str(), code);
            n += 1;
        }
        assert!(n > 500);
    }

    #[test]
    fn display_shows_code_message_request_id_action() {
        let e = ApiError {
            action: "CreateVpnConnection",
            region: "ap-guangzhou".into(),
            request_id: Some("6a4c6a1e-1111".into()),
            kind: ErrorKind::Api {
                code: ErrorCode::LimitExceeded,
                message: "quota".into(),
            },
            attempts: 1,
        };
        assert_eq!(
            e.to_string(),
            "CreateVpnConnection in ap-guangzhou failed: LimitExceeded: quota (request id 6a4c6a1e-1111)"
        );
    }
}
