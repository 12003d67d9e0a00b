//! Typed requests and responses of the `tag` service (version 2018-08-13), used to change the tags of
//! existing resources and to find resources by tag.
//!
//! Generated from `tag-api.json` (tccli's api.json) with the same conventions as [`crate::vpc`]. Note that
//! this service's [`Tag`] is `{TagKey, TagValue}`, unlike the vpc service's `{Key, Value}`.

use serde::{Deserialize, Serialize};

/// `FailedResource` (失败资源信息。 绑定或解绑资源标签时失败返回).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FailedResource {
    /// 失败的资源六段式
    #[serde(rename = "Resource", default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// 错误码
    #[serde(rename = "Code", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// 错误信息
    #[serde(rename = "Message", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `ResourceTagMapping` (资源及关联的标签(键和值)。).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceTagMapping {
    /// 资源六段式。腾讯云使用资源六段式描述一个资源。 例如：ResourceList.1 = qcs::${ServiceType}:${Region}:${Account}:${ResourcePreifx}/${Resou…
    #[serde(
        rename = "Resource",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub resource: String,
    /// 资源关联的标签列表
    #[serde(rename = "Tags", default, deserialize_with = "crate::de::null_default")]
    pub tags: Vec<Tag>,
}

/// `Tag` (表示一个标签键值对).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// 标签键
    #[serde(
        rename = "TagKey",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_key: String,
    /// 标签值
    #[serde(
        rename = "TagValue",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_value: String,
    /// 标签类型。取值： Custom：自定义标签。 System：系统标签。 All：全部标签。 默认值：All。
    #[serde(rename = "Category", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// `TagFilter` (标签键值过滤条件).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagFilter {
    /// 标签键
    #[serde(rename = "TagKey")]
    pub tag_key: String,
    /// 标签值数组 多个值的话是或的关系
    #[serde(rename = "TagValue", default, skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<Vec<String>>,
}

/// `TagKeyObject` (标签键对象).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagKeyObject {
    /// 标签键
    #[serde(rename = "TagKey")]
    pub tag_key: String,
}

/// `TagResource` (标签键值对以及资源ID).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagResource {
    /// 标签键
    #[serde(
        rename = "TagKey",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_key: String,
    /// 标签值
    #[serde(
        rename = "TagValue",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_value: String,
    /// 资源ID
    #[serde(
        rename = "ResourceId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub resource_id: String,
    /// 标签键MD5值
    #[serde(
        rename = "TagKeyMd5",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_key_md5: String,
    /// 标签值MD5值
    #[serde(
        rename = "TagValueMd5",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub tag_value_md5: String,
    /// 资源类型
    #[serde(
        rename = "ServiceType",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub service_type: String,
    /// 标签类型。取值： Custom：自定义标签。 System：系统标签。
    #[serde(rename = "Category", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// `ModifyResourceTagsRequest` (ModifyResourceTags请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyResourceTagsRequest {
    /// [ 资源六段式描述 ](https://cloud.tencent.com/document/product/598/10606)
    #[serde(rename = "Resource")]
    pub resource: String,
    /// 需要增加或修改的标签集合。如果Resource描述的资源未关联输入的标签键，则增加关联；若已关联，则将该资源关联的键对应的标签值修改为输入值。本接口中ReplaceTags和DeleteTags二者必须存在其一，且二者不…
    #[serde(
        rename = "ReplaceTags",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub replace_tags: Option<Vec<Tag>>,
    /// 需要解关联的标签集合。本接口中ReplaceTags和DeleteTags二者必须存在其一，且二者不能包含相同的标签键。可以不传该参数，但不能是空数组。标签数量不超过10个。
    #[serde(
        rename = "DeleteTags",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub delete_tags: Option<Vec<TagKeyObject>>,
}

/// `ModifyResourceTagsResponse` (ModifyResourceTags返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModifyResourceTagsResponse {
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `TagResourcesRequest` (TagResources请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagResourcesRequest {
    /// 待绑定的云资源，用标准的资源六段式表示。正确的资源六段式请参考：[标准的资源六段式](https://cloud.tencent.com/document/product/598/10606)和[支持标签的云产品及资源描…
    #[serde(rename = "ResourceList")]
    pub resource_list: Vec<String>,
    /// 标签键和标签值。 如果指定多个标签，则会为指定资源同时创建并绑定该多个标签。 同一个资源上的同一个标签键只能对应一个标签值。如果您尝试添加已有标签键，则对应的标签值会更新为新值。 如果标签不存在会为您自动创建标签。 N取…
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

/// `TagResourcesResponse` (TagResources返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagResourcesResponse {
    /// 失败资源信息。 创建并绑定标签成功时，返回的FailedResources为空。 创建并绑定标签失败或部分失败时，返回的FailedResources会显示失败资源的详细信息。
    #[serde(
        rename = "FailedResources",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub failed_resources: Vec<FailedResource>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `UnTagResourcesRequest` (UnTagResources请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnTagResourcesRequest {
    /// 资源六段式列表。腾讯云使用资源六段式描述一个资源。可参考[访问管理](https://cloud.tencent.com/document/product/598/67350)-概览-接口列表-资源六段式信息 例如：Re…
    #[serde(rename = "ResourceList")]
    pub resource_list: Vec<String>,
    /// 标签键。 取值范围：0~9
    #[serde(rename = "TagKeys")]
    pub tag_keys: Vec<String>,
}

/// `UnTagResourcesResponse` (UnTagResources返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnTagResourcesResponse {
    /// 失败资源信息。 解绑标签成功时，返回的FailedResources为空。 解绑标签失败或部分失败时，返回的FailedResources会显示失败资源的详细信息。
    #[serde(
        rename = "FailedResources",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub failed_resources: Vec<FailedResource>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `DescribeResourceTagsByResourceIdsRequest` (DescribeResourceTagsByResourceIds请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeResourceTagsByResourceIdsRequest {
    /// 业务类型，示例 cvm 。资源所属业务名称（资源六段式中的第三段）
    #[serde(rename = "ServiceType")]
    pub service_type: String,
    /// 资源前缀，示例 instance
    #[serde(rename = "ResourcePrefix")]
    pub resource_prefix: String,
    /// 资源ID数组，大小不超过50
    #[serde(rename = "ResourceIds")]
    pub resource_ids: Vec<String>,
    /// 资源所在地域，示例：ap-guangzhou，不区分地域的资源该字段传空字符串，区分地域的资源必填
    #[serde(rename = "ResourceRegion")]
    pub resource_region: String,
    /// 数据偏移量，默认为 0, 必须为Limit参数的整数倍
    #[serde(rename = "Offset", default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 每页大小，默认为 15
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// 标签类型。取值： Custom：自定义标签。 System：系统标签。 All：全部标签。 默认值：All。
    #[serde(rename = "Category", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// `DescribeResourceTagsByResourceIdsResponse` (DescribeResourceTagsByResourceIds返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribeResourceTagsByResourceIdsResponse {
    /// 结果总数
    #[serde(
        rename = "TotalCount",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub total_count: u64,
    /// 数据位移偏量
    #[serde(
        rename = "Offset",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub offset: u64,
    /// 每页大小
    #[serde(
        rename = "Limit",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub limit: u64,
    /// 标签列表
    #[serde(rename = "Tags", default, deserialize_with = "crate::de::null_default")]
    pub tags: Vec<TagResource>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}

/// `GetResourcesRequest` (GetResources请求参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetResourcesRequest {
    /// 资源六段式列表。腾讯云使用资源六段式描述一个资源。 例如：ResourceList.1 = qcs::${ServiceType}:${Region}:${Account}:${ResourcePreifx}/${Res…
    #[serde(
        rename = "ResourceList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_list: Option<Vec<String>>,
    /// 标签过滤数组，最多支持6组标签。会查询同时绑定了这多组标签的资源。 每组标签中的TagValue最多支持10个。
    #[serde(
        rename = "TagFilters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tag_filters: Option<Vec<TagFilter>>,
    /// 从上一页的响应中获取的下一页的Token值。 如果是第一次请求，设置为空。
    #[serde(
        rename = "PaginationToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pagination_token: Option<String>,
    /// 每一页返回的数据最大条数，最大200。 缺省值：50。
    #[serde(
        rename = "MaxResults",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_results: Option<u64>,
}

/// `GetResourcesResponse` (GetResources返回参数结构体).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetResourcesResponse {
    /// 获取的下一页的Token值
    #[serde(
        rename = "PaginationToken",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub pagination_token: String,
    /// 资源及关联的标签(键和值)列表
    #[serde(
        rename = "ResourceTagMappingList",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub resource_tag_mapping_list: Vec<ResourceTagMapping>,
    /// 唯一请求 ID，由服务端生成，每次请求都会返回（若请求因其他原因未能抵达服务端，则该次请求不会获得 RequestId）。定位问题时需要提供该次请求的 RequestId。
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "crate::de::null_default"
    )]
    pub request_id: String,
}
