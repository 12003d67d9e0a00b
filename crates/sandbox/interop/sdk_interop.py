#!/usr/bin/env python3
"""Interop check: Tencent's official Python SDK (tencentcloud-sdk-python-vpc / -tag) against a running sandbox.

Every action the sandbox serves is called through the SDK's own client, request models and signer, over plain
HTTP, and the answers are checked (success payloads, typed errors raised as TencentCloudSDKException with the
documented codes and a RequestId). A few calls also go as GET (`HttpProfile(reqMethod="GET")`: the parameters
flattened into the query string, signed over it).

Usage:
    SANDBOX_ENDPOINT=127.0.0.1:PORT TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... python3 sdk_interop.py

The credentials default to the sandbox's defaults (AKIDsandbox / sandboxsecret).
"""

import hashlib
import json
import os
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tag.v20180813 import models as tag_models
from tencentcloud.tag.v20180813 import tag_client
from tencentcloud.vpc.v20170312 import models, vpc_client

REGION = "ap-guangzhou"
UIN = os.environ.get("SANDBOX_UIN", "100000000001")
TIMEOUT = float(os.environ.get("SANDBOX_TASK_TIMEOUT", "60"))

CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def profile(endpoint, method="POST"):
    http = HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=30, reqMethod=method)
    return ClientProfile(httpProfile=http)


def call(client, module, action, params):
    """Builds the SDK's request model from a dict and calls the action; returns the response as a dict."""
    req = getattr(module, action + "Request")()
    req.from_json_string(json.dumps(params))
    resp = getattr(client, action)(req)
    return json.loads(resp.to_json_string())


def expect_error(code, client, module, action, params):
    try:
        call(client, module, action, params)
    except TencentCloudSDKException as e:
        check(e.get_code() == code, "%s: expected %s, got %s (%s)" % (action, code, e.get_code(), e.get_message()))
        check(bool(e.get_request_id()), "%s: error without RequestId" % action)
        return
    raise AssertionError("%s unexpectedly succeeded (expected %s)" % (action, code))


def wait_task(vpc, task_id):
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        r = call(vpc, models, "DescribeVpcTaskResult", {"TaskId": task_id})
        if r["Status"] != "RUNNING":
            return r
        time.sleep(0.05)
    raise AssertionError("task %s never finished" % task_id)


def wait_gateway(vpc, gw):
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        r = call(vpc, models, "DescribeVpnGateways", {"VpnGatewayIds": [gw]})
        if r["VpnGatewaySet"][0]["State"] == "AVAILABLE":
            return r["VpnGatewaySet"][0]
        time.sleep(0.05)
    raise AssertionError("gateway %s never became AVAILABLE" % gw)


def main():
    endpoint = os.environ.get("SANDBOX_ENDPOINT")
    if not endpoint:
        print("SANDBOX_ENDPOINT (host:port of a running sandbox) is required", file=sys.stderr)
        return 2
    secret_id = os.environ.get("TENCENTCLOUD_SECRET_ID") or "AKIDsandbox"
    secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY") or "sandboxsecret"
    cred = credential.Credential(secret_id, secret_key)
    vpc = vpc_client.VpcClient(cred, REGION, profile(endpoint))
    tag = tag_client.TagClient(cred, REGION, profile(endpoint))

    # Reads and the default world.
    r = call(vpc, models, "DescribeVpcs", {"Filters": [{"Name": "is-default", "Values": ["true"]}]})
    check(r["VpcSet"][0]["VpcId"] == "vpc-sandbox1", "default VPC: %s" % r)
    check(len(r["RequestId"]) == 36, "RequestId")

    # The SDK's unsigned-payload option.
    unsigned = profile(endpoint)
    unsigned.unsignedPayload = True
    r = call(vpc_client.VpcClient(cred, REGION, unsigned), models, "DescribeVpcs", {"VpcIds": ["vpc-sandbox1"]})
    check(r["TotalCount"] == 1, "unsigned payload")

    # VPC create / delete.
    r = call(vpc, models, "CreateVpc", {"VpcName": "sdk-vpc", "CidrBlock": "10.8.0.0/16",
                                        "Tags": [{"Key": "city", "Value": "shanghai"}]})
    extra_vpc = r["Vpc"]["VpcId"]

    # Customer gateway, VPN gateway.
    r = call(vpc, models, "CreateCustomerGateway", {"CustomerGatewayName": "sdk-cgw", "IpAddress": "58.211.1.12",
                                                    "Tags": [{"Key": "city", "Value": "shanghai"}]})
    cgw = r["CustomerGateway"]["CustomerGatewayId"]
    check(cgw.startswith("cgw-"), "cgw id")
    r = call(vpc, models, "CreateVpnGateway", {"VpcId": "vpc-sandbox1", "VpnGatewayName": "sdk-gw",
                                               "InternetMaxBandwidthOut": 5, "InstanceChargeType": "POSTPAID_BY_HOUR"})
    gw = r["VpnGateway"]["VpnGatewayId"]
    check(r["VpnGateway"]["State"] == "PENDING", "new gateway PENDING")
    gateway = wait_gateway(vpc, gw)

    # Tunnel: async create, every option.
    r = call(vpc, models, "CreateVpnConnection", {
        "VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": "sdk-conn", "PreShareKey": "sdk-psk",
        "VpcId": "vpc-sandbox1", "RouteType": "StaticRoute", "NegotiationType": "active",
        "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.1.0/24", "RemoteCidrBlock": ["192.168.1.0/24"]}],
        "IKEOptionsSpecification": {"PropoEncryAlgorithm": "AES-CBC-256", "PropoAuthenAlgorithm": "SHA",
                                    "ExchangeMode": "MAIN", "IKESaLifetimeSeconds": 86400, "IKEVersion": "IKEV2"},
        "IPSECOptionsSpecification": {"EncryptAlgorithm": "AES-CBC-256", "IntegrityAlgorith": "SHA1",
                                      "PfsDhGroup": "DH-GROUP14", "IPSECSaLifetimeSeconds": 3600},
        "DpdEnable": 1, "DpdTimeout": "30", "DpdAction": "restart",
        "EnableHealthCheck": True, "HealthCheckConfig": {"ProbeInterval": 2000, "ProbeThreshold": 3, "ProbeTimeout": 150},
        "Tags": [{"Key": "team", "Value": "net"}],
    })
    conn = r["VpnConnection"]["VpnConnectionId"]
    check(r["VpnConnection"]["State"] == "PENDING", "new tunnel PENDING")
    task = wait_task(vpc, r["RequestId"])
    check(task["Status"] == "SUCCESS", "create task: %s" % task)
    r = call(vpc, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})
    c = r["VpnConnectionSet"][0]
    check(r["TotalCount"] == 1 and c["State"] == "AVAILABLE", "tunnel AVAILABLE: %s" % c)
    check(c["PreShareKey"] == "sdk-psk", "PreShareKey returned")
    check(c["TagSet"] == [{"Key": "team", "Value": "net"}], "TagSet returned: %s" % c["TagSet"])
    check(c["IKEOptionsSpecification"]["LocalAddress"] == gateway["PublicIpAddress"], "LocalAddress default")
    check(c["IKEOptionsSpecification"]["RemoteAddress"] == "58.211.1.12", "RemoteAddress default")
    check(c["IPSECOptionsSpecification"]["PfsDhGroup"] == "DH-GROUP14", "IPsec options kept")
    r = call(vpc, models, "DescribeVpnConnections",
             {"Filters": [{"Name": "vpn-gateway-id", "Values": [gw]}], "Offset": 0, "Limit": 100})
    check(r["TotalCount"] == 1, "filter by gateway")

    # Modifies.
    call(vpc, models, "ModifyVpnConnectionAttribute",
         {"VpnConnectionId": conn, "VpnConnectionName": "sdk-conn-2", "PreShareKey": "sdk-psk-2",
          "IKEOptionsSpecification": {"DhGroupName": "GROUP14"}})
    c = call(vpc, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})["VpnConnectionSet"][0]
    check(c["VpnConnectionName"] == "sdk-conn-2" and c["PreShareKey"] == "sdk-psk-2", "modify applied")
    check(c["IKEOptionsSpecification"]["DhGroupName"] == "GROUP14", "IKE merged")
    check(c["IKEOptionsSpecification"]["PropoEncryAlgorithm"] == "AES-CBC-256", "IKE merge keeps the rest")
    call(vpc, models, "ModifyVpnGatewayAttribute", {"VpnGatewayId": gw, "VpnGatewayName": "sdk-gw-2"})
    call(vpc, models, "ResetVpnGatewayInternetMaxBandwidth", {"VpnGatewayId": gw, "InternetMaxBandwidthOut": 10})
    call(vpc, models, "ModifyCustomerGatewayAttribute", {"CustomerGatewayId": cgw, "CustomerGatewayName": "sdk-cgw-2"})
    r = call(vpc, models, "DescribeCustomerGateways", {"CustomerGatewayIds": [cgw]})
    check(r["CustomerGatewaySet"][0]["CustomerGatewayName"] == "sdk-cgw-2", "cgw renamed")
    check(r["CustomerGatewaySet"][0]["VpnConnNum"] == 1, "VpnConnNum")
    r = call(vpc, models, "GenerateVpnConnectionDefaultHealthCheckIp", {"VpnGatewayId": gw})
    check(r["HealthCheckLocalIp"].startswith("169.254."), "health-check IP")

    # Tags through the tag service.
    name = "qcs::vpc:%s:uin/%s:vpnx/%s" % (REGION, UIN, conn)
    r = call(tag, tag_models, "TagResources", {"ResourceList": [name], "Tags": [{"TagKey": "env", "TagValue": "prod"}]})
    check(r["FailedResources"] == [], "TagResources")
    r = call(tag, tag_models, "GetResources", {"TagFilters": [{"TagKey": "env", "TagValue": ["prod"]}]})
    check([m["Resource"] for m in r["ResourceTagMappingList"]] == [name], "GetResources: %s" % r)
    call(tag, tag_models, "ModifyResourceTags",
         {"Resource": name, "ReplaceTags": [{"TagKey": "env", "TagValue": "dev"}], "DeleteTags": [{"TagKey": "team"}]})
    c = call(vpc, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})["VpnConnectionSet"][0]
    check(c["TagSet"] == [{"Key": "env", "Value": "dev"}], "tags via the tag service: %s" % c["TagSet"])
    call(tag, tag_models, "UnTagResources", {"ResourceList": [name], "TagKeys": ["env"]})
    expect_error("InvalidParameterValue.UinInvalid", tag, tag_models, "TagResources",
                 {"ResourceList": ["qcs::vpc:%s:uin/1:vpnx/%s" % (REGION, conn)],
                  "Tags": [{"TagKey": "a", "TagValue": "b"}]})

    # Errors come back as SDK exceptions with the documented codes.
    expect_error("ResourceInUse", vpc, models, "DeleteVpnGateway", {"VpnGatewayId": gw})
    expect_error("ResourceInUse", vpc, models, "DeleteCustomerGateway", {"CustomerGatewayId": cgw})
    # CreateVpnConnection's page lists no `.Range` code: an out-of-range value is the common
    # InvalidParameterValue (with the range in its message).
    expect_error("InvalidParameterValue", vpc, models, "CreateVpnConnection",
                 {"VpnGatewayId": gw, "CustomerGatewayId": cgw, "VpnConnectionName": "x", "PreShareKey": "k",
                  "IKEOptionsSpecification": {"IKESaLifetimeSeconds": 10}})
    expect_error("InvalidParameterValue.TooLong", vpc, models, "CreateCustomerGateway",
                 {"CustomerGatewayName": "x" * 61, "IpAddress": "58.211.1.13"})
    expect_error("InvalidVpnGatewayId.NotFound", vpc, models, "DeleteVpnGateway",
                 {"VpnGatewayId": "vpngw-zzzzzzzz"})
    expect_error("InvalidParameter.Coexist", vpc, models, "DescribeVpnConnections",
                 {"VpnConnectionIds": [conn], "Filters": [{"Name": "vpc-id", "Values": ["vpc-sandbox1"]}]})
    bad = vpc_client.VpcClient(credential.Credential(secret_id, secret_key + "x"), REGION, profile(endpoint))
    expect_error("AuthFailure.SignatureFailure", bad, models, "DescribeVpcs", {})
    unknown = vpc_client.VpcClient(credential.Credential("AKIDnobody", secret_key), REGION, profile(endpoint))
    expect_error("AuthFailure.SecretIdNotFound", unknown, models, "DescribeVpcs", {})

    # GET: the SDK's reqMethod="GET" flattens the parameters into the query string (Filters.0.Name=...),
    # form-urlencoded and signed over the query as sent; the answers match the POST ones.
    vpc_get = vpc_client.VpcClient(cred, REGION, profile(endpoint, "GET"))
    tag_get = tag_client.TagClient(cred, REGION, profile(endpoint, "GET"))
    r = call(vpc_get, models, "DescribeVpcs", {"Filters": [{"Name": "is-default", "Values": ["true"]}],
                                               "Offset": "0", "Limit": "20"})
    check([v["VpcId"] for v in r["VpcSet"]] == ["vpc-sandbox1"], "GET DescribeVpcs: %s" % r)
    # Proof that the SDK really sent a GET: DescribeVpcs declares Limit a string, so a JSON number is refused
    # in a POST body, while in a query string every value is text and the spec types it.
    r = call(vpc_get, models, "DescribeVpcs", {"Limit": 20})
    check("vpc-sandbox1" in [v["VpcId"] for v in r["VpcSet"]], "GET DescribeVpcs with a numeric Limit: %s" % r)
    expect_error("InvalidParameter", vpc, models, "DescribeVpcs", {"Limit": 20})
    r = call(vpc_get, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})
    check(r["TotalCount"] == 1 and r["VpnConnectionSet"][0]["PreShareKey"] == "sdk-psk-2",
          "GET DescribeVpnConnections by id: %s" % r)
    by_post = call(vpc, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})
    check(r["VpnConnectionSet"] == by_post["VpnConnectionSet"], "GET and POST answer alike")
    r = call(vpc_get, models, "DescribeVpnConnections",
             {"Filters": [{"Name": "vpc-id", "Values": ["vpc-sandbox1"]},
                          {"Name": "vpn-gateway-id", "Values": [gw, "vpngw-zzzzzzzz"]}],
              "Offset": 0, "Limit": 20})
    check([c["VpnConnectionId"] for c in r["VpnConnectionSet"]] == [conn], "GET DescribeVpnConnections by filters")
    r = call(vpc_get, models, "CreateCustomerGateway",
             {"CustomerGatewayName": "get cgw/上海", "IpAddress": "58.211.1.15", "BgpAsn": 65010,
              "Tags": [{"Key": "via", "Value": "get request"}]})
    get_cgw = r["CustomerGateway"]["CustomerGatewayId"]
    r = call(vpc, models, "DescribeCustomerGateways", {"CustomerGatewayIds": [get_cgw]})
    g = r["CustomerGatewaySet"][0]
    check(g["CustomerGatewayName"] == "get cgw/上海" and g["BgpAsn"] == 65010, "GET CreateCustomerGateway: %s" % g)
    check(g["TagSet"] == [{"Key": "via", "Value": "get request"}], "GET tags: %s" % g["TagSet"])
    r = call(vpc_get, models, "ModifyVpnConnectionAttribute",
             {"VpnConnectionId": conn, "IKEOptionsSpecification": {"PropoEncryAlgorithm": "AES-CBC-128"},
              "EnableHealthCheck": False})
    c = call(vpc, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})["VpnConnectionSet"][0]
    check(c["IKEOptionsSpecification"]["PropoEncryAlgorithm"] == "AES-CBC-128", "GET nested object")
    check(c["EnableHealthCheck"] is False, "GET boolean False")
    expect_error("InvalidParameterValue.TooLong", vpc_get, models, "CreateCustomerGateway",
                 {"CustomerGatewayName": "x" * 61, "IpAddress": "58.211.1.16"})
    expect_error("InvalidParameter.Coexist", vpc_get, models, "DescribeVpnConnections",
                 {"VpnConnectionIds": [conn], "Filters": [{"Name": "vpc-id", "Values": ["vpc-sandbox1"]}]})
    call(vpc_get, models, "DeleteCustomerGateway", {"CustomerGatewayId": get_cgw})

    # DescribeResourceTagsByResourceIds (POST and GET).
    call(tag, tag_models, "TagResources",
         {"ResourceList": [name], "Tags": [{"TagKey": "owner", "TagValue": "net team"}]})
    for client in (tag, tag_get):
        r = call(client, tag_models, "DescribeResourceTagsByResourceIds",
                 {"ServiceType": "vpc", "ResourcePrefix": "vpnx", "ResourceRegion": REGION,
                  "ResourceIds": [conn], "Limit": 10})
        check(r["TotalCount"] == 1 and r["Tags"][0]["TagKey"] == "owner" and r["Tags"][0]["ResourceId"] == conn,
              "DescribeResourceTagsByResourceIds: %s" % r)
        check(r["Tags"][0]["TagValueMd5"] == hashlib.md5("net team".encode()).hexdigest(), "TagValueMd5")

    # Deletes.
    r = call(vpc, models, "DeleteVpnConnection", {"VpnGatewayId": gw, "VpnConnectionId": conn})
    task = wait_task(vpc, r["RequestId"])
    check(task["Status"] == "SUCCESS", "delete task: %s" % task)
    r = call(vpc, models, "DescribeVpnConnections", {"VpnConnectionIds": [conn]})
    check(r["TotalCount"] == 0, "tunnel gone")
    call(vpc, models, "DeleteCustomerGateway", {"CustomerGatewayId": cgw})
    call(vpc, models, "DeleteVpnGateway", {"VpnGatewayId": gw})
    call(vpc, models, "DeleteVpc", {"VpcId": extra_vpc})

    print("sdk interop: %d checks passed against %s" % (CHECKS, endpoint))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssertionError, TencentCloudSDKException) as e:
        print("sdk interop FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
