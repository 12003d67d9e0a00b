//! The error codes each action's public API page lists (the official SDKs carry the same lists: the
//! Go SDK's `vpc/v20170312/client.go` names them above each action's method), for the actions whose
//! pages have been checked: CreateVpnConnection, ModifyVpnConnectionAttribute, the VPN gateway and
//! customer gateway actions, and the route actions. An
//! action answers one of its own codes or a common one; a finer code the sandbox's shared
//! helpers use elsewhere (`InvalidVpnGatewayId.NotFound`, `InvalidParameterValue.Range`) becomes
//! the documented code it refines (`ResourceNotFound`, `InvalidParameterValue`), message kept.

use super::Action;
use crate::error::{codes, ApiError};

/// Codes every action may answer (the API's common error codes).
const COMMON: &[&str] = &[
    "AuthFailure",
    "FailedOperation",
    "InternalError",
    "InvalidAction",
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidRequest",
    "LimitExceeded",
    "MissingParameter",
    "NoSuchVersion",
    "RequestLimitExceeded",
    "RequestSizeLimitExceeded",
    "ResourceInUse",
    "ResourceInsufficient",
    "ResourceNotFound",
    "ResourceUnavailable",
    "UnauthorizedOperation",
    "UnknownParameter",
    "UnsupportedOperation",
    "UnsupportedProtocol",
    "UnsupportedRegion",
];

const TAG_CODES: &[&str] = &[
    "InvalidParameterValue.TagDuplicateKey",
    "InvalidParameterValue.TagDuplicateResourceType",
    "InvalidParameterValue.TagInvalidKey",
    "InvalidParameterValue.TagInvalidKeyLen",
    "InvalidParameterValue.TagInvalidVal",
    "InvalidParameterValue.TagKeyNotExists",
    "InvalidParameterValue.TagNotAllocatedQuota",
    "InvalidParameterValue.TagNotExisted",
    "InvalidParameterValue.TagNotSupportTag",
    "InvalidParameterValue.TagResourceFormatError",
    "InvalidParameterValue.TagTimestampExceeded",
    "InvalidParameterValue.TagValNotExists",
    "LimitExceeded.TagKeyExceeded",
    "LimitExceeded.TagKeyPerResourceExceeded",
    "LimitExceeded.TagNotEnoughQuota",
    "LimitExceeded.TagQuota",
    "LimitExceeded.TagQuotaExceeded",
    "LimitExceeded.TagTagsExceeded",
    "UnsupportedOperation.TagAllocate",
    "UnsupportedOperation.TagFree",
    "UnsupportedOperation.TagNotPermit",
    "UnsupportedOperation.TagSystemReservedTagKey",
];

/// The codes action `a`'s page lists besides the tag codes (`None`: not checked yet).
fn listed(a: Action) -> Option<(&'static [&'static str], bool)> {
    Some(match a {
        Action::CreateVpnConnection => (
            &[
                "InvalidParameter.Coexist",
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.Empty",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
                "InvalidParameterValue.VpcCidrConflict",
                "InvalidParameterValue.VpnConnBgpTunnelCidrConflict",
                "InvalidParameterValue.VpnConnBgpTunnelCidrMask",
                "InvalidParameterValue.VpnConnBgpTunnelCidrNotSupported",
                "InvalidParameterValue.VpnConnCidrConflict",
                "InvalidParameterValue.VpnConnHealthCheckIpConflict",
                "InvalidParameterValue.VpnConnSpdCidrConflict",
                "UnsupportedOperation.InvalidState",
                "UnsupportedOperation.VpnConnCidrNotSupportedHealthCheck",
                "UnsupportedOperation.VpnConnDestCidrConflictWithPrivateNet",
                "UnsupportedOperation.VpnConnRouteTypeMixed",
                "UnsupportedOperation.VpnUnsupportedBgp",
                "UnsupportedOperation.VpnUnsupportedBgpAsnEqual",
                "UnsupportedOperation.VpnUnsupportedNotExistBgpAsn",
            ],
            true,
        ),
        Action::ModifyVpnConnectionAttribute => (
            &[
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
                "InvalidParameterValue.VpnConnCidrConflict",
                "InvalidParameterValue.VpnConnHealthCheckIpConflict",
                "UnsupportedOperation.InvalidState",
                "UnsupportedOperation.VpnConnCidrNotSupportedHealthCheck",
                "UnsupportedOperation.VpnConnInvalidState",
                "UnsupportedOperation.VpnConnSPDOverlap",
                "UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn",
            ],
            false,
        ),
        Action::CreateVpnGateway => (
            &[
                "FailedOperation.CreateVpnGatewayFailed",
                "InvalidParameterValue.AccessSubnetMask",
                "InvalidParameterValue.AccessSubnetPrefix",
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.Empty",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
                "InvalidParameterValue.VpnConnCidrConflict",
                "InvalidVpcId.Malformed",
                "InvalidVpcId.NotFound",
                "UnauthorizedOperation.NoRealNameAuthentication",
                "UnsupportedOperation.BillingFailed",
                "UnsupportedOperation.InsufficientFunds",
                "UnsupportedOperation.NotSupportCreateIpv6VpnGateway",
                "UnsupportedOperation.PrivateBgpVpnGateway",
                "UnsupportedOperation.PrivateSslVpnGateway",
                "UnsupportedOperation.PrivateVpnGateway",
                "UnsupportedOperation.VpnGatewayVpcNoIpv6Subnet",
                "UnsupportedOperation.VpnGwVpcIdMustHave",
                "UnsupportedOperation.VpnGwVpcIdNotHave",
                "UnsupportedOperation.VpnUnsupportedBgp",
            ],
            true,
        ),
        Action::DescribeVpnGateways => (
            &[
                "InternalError.ModuleError",
                "InvalidParameter.Coexist",
                "InvalidParameter.FilterInvalidKey",
                "InvalidParameter.FilterNotDict",
                "InvalidParameter.FilterValuesNotList",
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.Range",
                "InvalidVpnGatewayId.Malformed",
                "InvalidVpnGatewayId.NotFound",
            ],
            false,
        ),
        Action::ModifyVpnGatewayAttribute => (
            &[
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
                "UnsupportedOperation.InvalidState",
                "UnsupportedOperation.VpnUnsupportedModifyBgpAsn",
            ],
            false,
        ),
        Action::DeleteVpnGateway => (
            &[
                "InvalidParameterValue.Malformed",
                "InvalidVpnGatewayId.Malformed",
                "InvalidVpnGatewayId.NotFound",
                "UnsupportedOperation.BindCloudFirewall",
            ],
            false,
        ),
        Action::ResetVpnGatewayInternetMaxBandwidth => (
            &[
                "InvalidParameterValue.Malformed",
                "UnsupportedOperation.InvalidState",
                "UnsupportedOperation.VpnUnsupportedModifyBandwidth",
            ],
            false,
        ),
        Action::CreateCustomerGateway => (
            &[
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.TooLong",
                "UnsupportedOperation.RecordExists",
                "UnsupportedOperation.VpnUnsupportedBgp",
                "VpcLimitExceeded",
            ],
            true,
        ),
        Action::DescribeCustomerGateways => (
            &[
                "InternalError.ModuleError",
                "InvalidParameter.FilterInvalidKey",
                "InvalidParameterValue.Malformed",
            ],
            false,
        ),
        Action::ModifyCustomerGatewayAttribute => (
            &[
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
                "UnsupportedOperation.VpnUnsupportedModifyBgpAsn",
            ],
            false,
        ),
        Action::DeleteCustomerGateway => (
            &[
                "InvalidParameterValue.Malformed",
                "UnsupportedOperation.RecordNotExists",
            ],
            false,
        ),
        Action::CreateRoutes => (
            &[
                "InvalidParameterValue.CidrNotInPeerVpc",
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.RouteNextHopInvalid",
                "InvalidParameterValue.RoutePolicyPriorityConflict",
                "InvalidParameterValue.SubnetOverlapRoute",
                "InvalidParameterValue.VpcCidrConflict",
                "InvalidParameterValue.VpcCidrOverlapRoute",
                "UnknownParameter.WithGuess",
                "UnsupportedOperation.CdcSubnetNotSupportUnLocalGateway",
                "UnsupportedOperation.ConflictWithDockerRoute",
                "UnsupportedOperation.Ecmp",
                "UnsupportedOperation.EcmpWithCcnRoute",
                "UnsupportedOperation.EcmpWithUserRoute",
                "UnsupportedOperation.NormalSubnetNotSupportLocalGateway",
                "UnsupportedOperation.SystemRoute",
            ],
            false,
        ),
        Action::ReplaceRoutes => (
            &[
                "InvalidParameterValue.CidrNotInPeerVpc",
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.SubnetOverlapRoute",
                "InvalidParameterValue.VpcCidrConflict",
                "InvalidParameterValue.VpcCidrOverlapRoute",
                "UnknownParameter.WithGuess",
                "UnsupportedOperation.CdcSubnetNotSupportUnLocalGateway",
                "UnsupportedOperation.ConflictWithDockerRoute",
                "UnsupportedOperation.Ecmp",
                "UnsupportedOperation.NormalSubnetNotSupportLocalGateway",
                "UnsupportedOperation.RecordNotExists",
                "UnsupportedOperation.RoutePvgw2",
                "UnsupportedOperation.SystemRoute",
            ],
            false,
        ),
        Action::DeleteRoutes => (
            &[
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "UnknownParameter.WithGuess",
                "UnsupportedOperation.DisabledNotifyCcn",
                "UnsupportedOperation.SystemRoute",
            ],
            false,
        ),
        Action::EnableRoutes => (
            &[
                "InvalidParameter.Coexist",
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "UnsupportedOperation.ConflictWithDockerRoute",
                "UnsupportedOperation.Ecmp",
                "UnsupportedOperation.EcmpWithCcnRoute",
                "UnsupportedOperation.EcmpWithUserRoute",
                "UnsupportedOperation.SystemRoute",
            ],
            false,
        ),
        Action::DisableRoutes => (
            &[
                "InvalidParameter.Coexist",
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "UnsupportedOperation.DisabledNotifyCcn",
                "UnsupportedOperation.SystemRoute",
            ],
            false,
        ),
        Action::CreateRouteTable => (
            &[
                "InvalidParameterValue.Duplicate",
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
            ],
            true,
        ),
        Action::DeleteRouteTable => (
            &[
                "InvalidParameterValue.Malformed",
                "UnsupportedOperation.DelDefaultRoute",
                "UnsupportedOperation.DelRouteWithSubnet",
                "UnsupportedOperation.NotSupportDeleteDefaultRouteTable",
                "UnsupportedOperation.RouteTableHasSubnetRule",
            ],
            false,
        ),
        Action::ModifyRouteTableAttribute => (
            &[
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.TooLong",
            ],
            false,
        ),
        Action::DescribeRouteTables => (
            &[
                "InternalError.ModuleError",
                "InvalidParameter.Coexist",
                "InvalidParameter.FilterInvalidKey",
                "InvalidParameter.FilterMissParameter",
                "InvalidParameter.FilterNotDict",
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.NotUtf8EncodingError",
                "InvalidParameterValue.Range",
            ],
            false,
        ),
        Action::CreateVpnGatewayRoutes => (
            &[
                "InvalidParameterValue.LimitExceeded",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.VpnGatewayRouteDuplicate",
                "LimitExceeded.VpnGatewayRoutesLimitExceeded",
                "UnsupportedOperation.VpnUnsupportedRouteEcmpForCvmVpn",
            ],
            false,
        ),
        Action::DeleteVpnGatewayRoutes => (&["InvalidParameterValue.Malformed"], false),
        Action::ModifyVpnGatewayRoutes => (
            &[
                "UnsupportedOperation.RecordNotExists",
                "UnsupportedOperation.VpnUnsupportedRouteEcmpForCvmVpn",
            ],
            false,
        ),
        Action::DescribeVpnGatewayRoutes => (
            &[
                "InvalidParameter.FilterInvalidKey",
                "InvalidParameterValue.Malformed",
                "InvalidParameterValue.Range",
            ],
            false,
        ),
        _ => return None,
    })
}

/// Whether action `a`'s page lists `code` (or it is a common code). True for actions not checked.
pub fn is_documented(a: Action, code: &str) -> bool {
    let Some((own, tags)) = listed(a) else {
        return true;
    };
    COMMON.contains(&code)
        || code.starts_with("AuthFailure.")
        || own.contains(&code)
        || (tags && TAG_CODES.contains(&code))
}

/// `e` as action `a` documents it: its own code when listed, else the documented code it refines.
pub fn conform(a: Action, e: ApiError) -> ApiError {
    if is_documented(a, e.code) {
        return e;
    }
    let code = if e.code.ends_with(".NotFound") || e.code.ends_with("NotExist") {
        codes::RESOURCE_NOT_FOUND
    } else if e.code.ends_with(".Malformed") {
        codes::IPV_MALFORMED
    } else {
        match e.code.split('.').next().unwrap_or_default() {
            "InvalidParameter" => codes::INVALID_PARAMETER,
            "UnsupportedOperation" => codes::UNSUPPORTED_OPERATION,
            "LimitExceeded" => codes::LIMIT_EXCEEDED,
            "ResourceInUse" => codes::RESOURCE_IN_USE,
            "MissingParameter" => codes::MISSING_PARAMETER,
            "InternalError" => codes::INTERNAL_ERROR,
            _ => codes::INVALID_PARAMETER_VALUE,
        }
    };
    ApiError::new(code, e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_is_documented_and_kept() {
        for a in Action::ALL {
            if let Some((own, _)) = listed(*a) {
                for c in own {
                    assert_eq!(conform(*a, ApiError::new(*c, "m")).code, *c, "{a:?} {c}");
                }
            }
        }
    }

    #[test]
    fn finer_codes_become_the_documented_ones() {
        let cases = [
            (
                Action::CreateVpnConnection,
                "InvalidVpnGatewayId.NotFound",
                "ResourceNotFound",
            ),
            (
                Action::CreateVpnConnection,
                "InvalidCustomerGatewayId.Malformed",
                "InvalidParameterValue.Malformed",
            ),
            (
                Action::CreateVpnConnection,
                "InvalidParameterValue.Range",
                "InvalidParameterValue",
            ),
            (
                Action::CreateVpnConnection,
                "UnsupportedOperation.VpcMismatch",
                "UnsupportedOperation",
            ),
            (
                Action::CreateVpnConnection,
                "InvalidParameterValue.VpcCidrConflict",
                "InvalidParameterValue.VpcCidrConflict",
            ),
            (
                Action::CreateVpnGatewayRoutes,
                "UnsupportedOperation.VpnConnRouteTypeMixed",
                "UnsupportedOperation",
            ),
            (
                Action::CreateVpnGatewayRoutes,
                "InvalidParameterValue.Empty",
                "InvalidParameterValue",
            ),
            (
                Action::CreateRoutes,
                "InvalidRouteTableId.NotFound",
                "ResourceNotFound",
            ),
            (
                Action::CreateRoutes,
                "InvalidParameter.NextHopMismatch",
                "InvalidParameter",
            ),
            (
                Action::DeleteRoutes,
                "InvalidRouteId.NotFound",
                "ResourceNotFound",
            ),
            (
                Action::ModifyVpnConnectionAttribute,
                "InvalidParameterValue.Range",
                "InvalidParameterValue",
            ),
            (
                Action::ModifyVpnConnectionAttribute,
                "UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn",
                "UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn",
            ),
            (
                Action::DeleteVpnGateway,
                "InvalidVpnGatewayId.NotFound",
                "InvalidVpnGatewayId.NotFound",
            ),
            (
                Action::ModifyVpnGatewayAttribute,
                "InvalidVpnGatewayId.NotFound",
                "ResourceNotFound",
            ),
            (
                Action::CreateVpnGateway,
                "InvalidVpcId.NotFound",
                "InvalidVpcId.NotFound",
            ),
            (
                Action::CreateCustomerGateway,
                "InvalidParameterValue.Range",
                "InvalidParameterValue",
            ),
            // An action whose page is not checked keeps its codes.
            (
                Action::DeleteVpnConnection,
                "InvalidParameterValue.Range",
                "InvalidParameterValue.Range",
            ),
        ];
        for (a, from, to) in cases {
            assert_eq!(
                conform(a, ApiError::new(from, "why")).code,
                to,
                "{a:?} {from}"
            );
            assert_eq!(conform(a, ApiError::new(from, "why")).message, "why");
        }
    }
}
