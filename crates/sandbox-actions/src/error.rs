//! The API errors the actions answer with: the codes (from FACTS.md, vpc-error-codes.tsv and the tag
//! service's codes) and [`ApiError`], which the wire protocol renders into the response envelope.

/// The error codes the sandbox answers with (from FACTS.md, vpc-error-codes.tsv and the tag service's codes).
pub mod codes {
    pub const AUTH_TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";
    pub const AUTH_SIGNATURE_FAILURE: &str = "AuthFailure.SignatureFailure";
    pub const INVALID_ACTION: &str = "InvalidAction";
    pub const MISSING_PARAMETER: &str = "MissingParameter";
    pub const UNKNOWN_PARAMETER: &str = "UnknownParameter";
    pub const INVALID_PARAMETER: &str = "InvalidParameter";
    pub const INVALID_PARAMETER_COEXIST: &str = "InvalidParameter.Coexist";
    pub const INVALID_PARAMETER_CONFLICT: &str = "InvalidParameter.Conflict";
    pub const INVALID_PARAMETER_FILTER_INVALID_KEY: &str = "InvalidParameter.FilterInvalidKey";
    pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
    pub const IPV_DUPLICATE: &str = "InvalidParameterValue.Duplicate";
    pub const IPV_EMPTY: &str = "InvalidParameterValue.Empty";
    pub const IPV_LIMIT_EXCEEDED: &str = "InvalidParameterValue.LimitExceeded";
    pub const IPV_MALFORMED: &str = "InvalidParameterValue.Malformed";
    pub const IPV_RANGE: &str = "InvalidParameterValue.Range";
    pub const IPV_RESERVED: &str = "InvalidParameterValue.Reserved";
    pub const IPV_TOO_LONG: &str = "InvalidParameterValue.TooLong";
    pub const IPV_TAG_DUPLICATE_KEY: &str = "InvalidParameterValue.TagDuplicateKey";
    pub const IPV_TAG_INVALID_KEY: &str = "InvalidParameterValue.TagInvalidKey";
    pub const IPV_TAG_INVALID_KEY_LEN: &str = "InvalidParameterValue.TagInvalidKeyLen";
    pub const IPV_TAG_INVALID_VAL: &str = "InvalidParameterValue.TagInvalidVal";
    pub const IPV_VPC_CIDR_CONFLICT: &str = "InvalidParameterValue.VpcCidrConflict";
    pub const IPV_VPN_CONN_CIDR_CONFLICT: &str = "InvalidParameterValue.VpnConnCidrConflict";
    pub const IPV_VPN_CONN_SPD_CIDR_CONFLICT: &str = "InvalidParameterValue.VpnConnSpdCidrConflict";
    pub const IPV_BGP_TUNNEL_CIDR_CONFLICT: &str =
        "InvalidParameterValue.VpnConnBgpTunnelCidrConflict";
    pub const IPV_BGP_TUNNEL_CIDR_MASK: &str = "InvalidParameterValue.VpnConnBgpTunnelCidrMask";
    pub const IPV_BGP_TUNNEL_CIDR_NOT_SUPPORTED: &str =
        "InvalidParameterValue.VpnConnBgpTunnelCidrNotSupported";
    pub const IPV_HEALTH_CHECK_IP_CONFLICT: &str =
        "InvalidParameterValue.VpnConnHealthCheckIpConflict";
    pub const INVALID_VPC_ID_MALFORMED: &str = "InvalidVpcId.Malformed";
    pub const INVALID_VPC_ID_NOT_FOUND: &str = "InvalidVpcId.NotFound";
    pub const INVALID_VPN_GATEWAY_ID_MALFORMED: &str = "InvalidVpnGatewayId.Malformed";
    pub const INVALID_VPN_GATEWAY_ID_NOT_FOUND: &str = "InvalidVpnGatewayId.NotFound";
    pub const LIMIT_EXCEEDED: &str = "LimitExceeded";
    pub const LIMIT_EXCEEDED_TAG_KEY_PER_RESOURCE: &str = "LimitExceeded.TagKeyPerResourceExceeded";
    pub const VPC_LIMIT_EXCEEDED: &str = "VpcLimitExceeded";
    pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
    pub const REQUEST_SIZE_LIMIT_EXCEEDED: &str = "RequestSizeLimitExceeded";
    pub const INTERNAL_ERROR: &str = "InternalError";
    pub const RESOURCE_IN_USE: &str = "ResourceInUse";
    pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFound";
    pub const UNSUPPORTED_REGION: &str = "UnsupportedRegion";
    pub const UNSUPPORTED_PROTOCOL: &str = "UnsupportedProtocol";
    pub const UNSUPPORTED_OPERATION: &str = "UnsupportedOperation";
    pub const UO_INVALID_STATE: &str = "UnsupportedOperation.InvalidState";
    pub const UO_VPN_CONN_INVALID_STATE: &str = "UnsupportedOperation.VpnConnInvalidState";
    pub const UO_DELETE_VPN_CONN_INVALID_STATE: &str =
        "UnsupportedOperation.DeleteVpnConnInvalidState";
    pub const UO_VPC_MISMATCH: &str = "UnsupportedOperation.VpcMismatch";
    pub const UO_CUSTOMER_GATEWAY_IPV6: &str = "UnsupportedOperation.CustomerGatewayIpv6";
    pub const UO_VPN_GW_VPC_ID_MUST_HAVE: &str = "UnsupportedOperation.VpnGwVpcIdMustHave";
    pub const UO_VPN_GW_VPC_ID_NOT_HAVE: &str = "UnsupportedOperation.VpnGwVpcIdNotHave";
    pub const UO_VPN_CONN_ROUTE_TYPE_MIXED: &str = "UnsupportedOperation.VpnConnRouteTypeMixed";
    pub const UO_VPN_CONN_CIDR_NOT_SUPPORTED_HEALTH_CHECK: &str =
        "UnsupportedOperation.VpnConnCidrNotSupportedHealthCheck";
    pub const UO_VPN_UNSUPPORTED_BGP_ASN_EQUAL: &str =
        "UnsupportedOperation.VpnUnsupportedBgpAsnEqual";
    pub const UO_VPN_UNSUPPORTED_NOT_EXIST_BGP_ASN: &str =
        "UnsupportedOperation.VpnUnsupportedNotExistBgpAsn";
    pub const UO_VPN_UNSUPPORTED_USR_GW_NOT_EXIST_BGP_ASN: &str =
        "UnsupportedOperation.VpnUnsupportedUsrGwNotExistBgpAsn";
    pub const UO_VPN_UNSUPPORTED_MODIFY_BGP_ASN: &str =
        "UnsupportedOperation.VpnUnsupportedModifyBgpAsn";
    pub const UO_VPN_UNSUPPORTED_MODIFY_BANDWIDTH: &str =
        "UnsupportedOperation.VpnUnsupportedModifyBandwidth";
    // route tables, route entries and VPN gateway routes
    pub const INVALID_ROUTE_TABLE_ID_MALFORMED: &str = "InvalidRouteTableId.Malformed";
    pub const INVALID_ROUTE_TABLE_ID_NOT_FOUND: &str = "InvalidRouteTableId.NotFound";
    pub const INVALID_ROUTE_ID_NOT_FOUND: &str = "InvalidRouteId.NotFound";
    pub const INVALID_PARAMETER_NEXT_HOP_MISMATCH: &str = "InvalidParameter.NextHopMismatch";
    pub const IPV_ROUTE_NEXT_HOP_INVALID: &str = "InvalidParameterValue.RouteNextHopInvalid";
    pub const IPV_VPN_GATEWAY_ROUTE_DUPLICATE: &str =
        "InvalidParameterValue.VpnGatewayRouteDuplicate";
    pub const LIMIT_EXCEEDED_VPN_GATEWAY_ROUTES: &str =
        "LimitExceeded.VpnGatewayRoutesLimitExceeded";
    pub const UO_DEL_DEFAULT_ROUTE: &str = "UnsupportedOperation.DelDefaultRoute";
    pub const UO_DEL_ROUTE_WITH_SUBNET: &str = "UnsupportedOperation.DelRouteWithSubnet";
    pub const UO_SYSTEM_ROUTE: &str = "UnsupportedOperation.SystemRoute";
    pub const UO_ECMP_WITH_USER_ROUTE: &str = "UnsupportedOperation.EcmpWithUserRoute";
    pub const UO_INSTANCE_AND_RTB_NOT_MATCH: &str = "UnsupportedOperation.InstanceAndRtbNotMatch";
    // tag service (2018-08-13)
    pub const TAG_RESOURCE_DESCRIPTION_ERROR: &str =
        "InvalidParameterValue.ResourceDescriptionError";
    pub const TAG_UIN_INVALID: &str = "InvalidParameterValue.UinInvalid";
    pub const TAG_RESOURCE_ID_INVALID: &str = "InvalidParameterValue.ResourceIdInvalid";
    pub const TAG_RESOURCE_PREFIX_INVALID: &str = "InvalidParameterValue.ResourcePrefixInvalid";
    pub const TAG_SERVICE_TYPE_INVALID: &str = "InvalidParameterValue.ServiceTypeInvalid";
    pub const TAG_REGION_INVALID: &str = "InvalidParameterValue.RegionInvalid";
    pub const TAG_KEY_EMPTY: &str = "InvalidParameterValue.TagKeyEmpty";
    pub const TAG_KEY_LENGTH_EXCEEDED: &str = "InvalidParameterValue.TagKeyLengthExceeded";
    pub const TAG_VALUE_LENGTH_EXCEEDED: &str = "InvalidParameterValue.TagValueLengthExceeded";
    pub const TAG_KEY_CHARACTER_ILLEGAL: &str = "InvalidParameterValue.TagKeyCharacterIllegal";
    pub const TAG_VALUE_CHARACTER_ILLEGAL: &str = "InvalidParameterValue.TagValueCharacterIllegal";
    pub const TAG_RESERVED_TAG_KEY: &str = "InvalidParameterValue.ReservedTagKey";
    pub const TAG_DELETE_TAGS_PARAM_ERROR: &str = "InvalidParameterValue.DeleteTagsParamError";
    pub const TAG_OFFSET_INVALID: &str = "InvalidParameterValue.OffsetInvalid";
    pub const TAG_FILTERS_LENGTH_EXCEEDED: &str = "InvalidParameterValue.TagFiltersLengthExceeded";
    pub const TAG_INVALID_PARAMETER_TAG: &str = "InvalidParameter.Tag";
    pub const TAG_RESOURCE_NUM_PER_REQUEST: &str = "LimitExceeded.ResourceNumPerRequest";
    pub const TAG_RESOURCE_ATTACHED_TAGS: &str = "LimitExceeded.ResourceAttachedTags";
}

/// An error answered to an API client: `{"Response":{"Error":{"Code","Message"},"RequestId"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub fn missing(param: &str) -> Self {
        ApiError::new(
            codes::MISSING_PARAMETER,
            format!("The request is missing a required parameter `{param}`."),
        )
    }

    pub fn malformed(param: &str, value: &str) -> Self {
        ApiError::new(
            codes::IPV_MALFORMED,
            format!("The value `{value}` of parameter `{param}` is malformed."),
        )
    }

    pub fn range(param: &str, detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            codes::IPV_RANGE,
            format!("The value of parameter `{param}` is out of range: {detail}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(codes::INTERNAL_ERROR, message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
