#!/usr/bin/env python3
"""Interop test: Tencent Cloud's official Python SDK against `tunnelform sandbox`.

Every call goes through the SDK's own client objects (vpc_client.VpcClient, tag_client.TagClient,
CommonClient) and models, exactly as a user of the SDK would write it, with an http HttpProfile pointed at
the sandbox. Each check is one test; a check whose prerequisite failed is counted as failed too.

On a failure the last HTTP request and response the SDK saw are printed (pre-shared keys and signatures
redacted), so the exact wire exchange can be handed to whoever fixes it.

Run by .ci/interop.sh; by hand:
    python3 sdk_interop.py --endpoint 127.0.0.1:PORT [--results FILE]
"""

import argparse
import json
import logging
import os
import re
import sys
import time
import traceback
import warnings

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tag.v20180813 import models as tag_models
from tencentcloud.tag.v20180813 import tag_client
from tencentcloud.vpc.v20170312 import models as vpc_models
from tencentcloud.vpc.v20170312 import vpc_client

UIN = "100000000001"
PSK = "interop-Psk-0123456789"
PSK2 = "interop-Psk-rotated-9876"
CGW_NAME2 = "对端网关-"  # names may be Chinese; the SDK sends them \u-escaped and reads raw UTF-8 back
POLL_DEADLINE_S = 15.0
POLL_INTERVAL_S = 0.1  # DescribeVpcTaskResult allows 20 requests/s; stay well under it


class CheckFailed(Exception):
    pass


class Prereq(Exception):
    """A check cannot run because an earlier step it depends on failed."""


# ---------------------------------------------------------------------------------------------------------
# Capture of the SDK's own debug log (SendRequest / GetResponse) for failure reports.


class WireLog(logging.Handler):
    def __init__(self, keep=6):
        super().__init__(level=logging.DEBUG)
        self.records = []
        self.keep = keep

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # a broken log record must not break the test
            return
        self.records.append(msg)
        del self.records[: -self.keep]

    def mark(self):
        self.records = []

    def dump(self):
        out = []
        for msg in self.records:
            msg = re.sub(r'("PreShareKey"\s*:\s*")[^"]*(")', r"\1** redacted **\2", msg)
            msg = re.sub(r"(Signature=)[0-9a-f]+", r"\1<sig>", msg)
            if len(msg) > 3000:
                msg = msg[:3000] + "... (truncated)"
            out.append(msg)
        return "\n".join(out)


WIRE = WireLog()


# ---------------------------------------------------------------------------------------------------------
# The test runner.


class Runner:
    """Runs checks in order; results are written to `results_path` after every check, so a run killed by
    the caller's timeout still leaves what it did. Checks not started by `deadline` fail without running."""

    def __init__(self, results_path, deadline):
        self.results = []  # {"name", "ok", "detail", "ms"}
        self.results_path = results_path
        self.deadline = deadline

    def check(self, name, fn):
        WIRE.mark()
        started = time.monotonic()
        if started > self.deadline:
            self._record(name, False, "not run: the run's time budget is spent", started, wire=False)
            return None
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = fn()
            useless = [str(w.message) for w in caught if "useless" in str(w.message)]
            if useless:
                # The SDK's models warn about response fields they do not define: the sandbox answered with
                # something the official model does not have.
                raise CheckFailed("response fields unknown to the SDK model: %s" % "; ".join(useless))
        except Prereq as e:
            self._record(name, False, "not run: prerequisite failed (%s)" % e, started, wire=False)
            return None
        except TencentCloudSDKException as e:
            self._record(name, False, "unexpected TencentCloudSDKException code=%s message=%s requestId=%s"
                         % (e.code, e.message, e.requestId), started)
            return None
        except CheckFailed as e:
            self._record(name, False, str(e), started)
            return None
        except Exception:
            self._record(name, False, "crashed:\n" + traceback.format_exc(), started)
            return None
        self._record(name, True, "", started)
        return value if value is not None else True

    def _record(self, name, ok, detail, started, wire=True):
        ms = (time.monotonic() - started) * 1000
        self.results.append({"name": name, "ok": ok, "detail": detail, "ms": round(ms, 1)})
        if self.results_path:
            with open(self.results_path + ".tmp", "w") as fh:
                json.dump(self.results, fh, indent=1)
            os.replace(self.results_path + ".tmp", self.results_path)
        if ok:
            print("ok   - %s (%.0f ms)" % (name, ms), flush=True)
        else:
            print("FAIL - %s (%.0f ms)\n       %s" % (name, ms, detail.replace("\n", "\n       ")), flush=True)
            if wire:
                dump = WIRE.dump()
                if dump:
                    print("       last HTTP exchange seen by the SDK:", flush=True)
                    print("       | " + dump.replace("\n", "\n       | "), flush=True)


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def need(value, what):
    if not value:
        raise Prereq(what)
    return value


def expect_sdk_error(fn, accept, what):
    """Calls fn, which must raise TencentCloudSDKException with a code accepted by `accept`."""
    try:
        result = fn()
    except TencentCloudSDKException as e:
        expect(accept(e.code or ""), "%s: got code %r (message %r)" % (what, e.code, e.message))
        expect(bool(e.requestId), "%s: error without RequestId (code %r)" % (what, e.code))
        return e
    raise CheckFailed("%s: the call succeeded, returning %s" % (what, _short(result)))


def _short(obj):
    try:
        s = obj.to_json_string()
    except Exception:
        s = repr(obj)
    s = re.sub(r'("PreShareKey"\s*:\s*")[^"]*(")', r"\1** redacted **\2", s)
    return s if len(s) < 600 else s[:600] + "..."


def poll(fn, done, what, deadline_s=POLL_DEADLINE_S):
    """Calls fn until done(value) holds; returns the value. Bounded by deadline_s."""
    end = time.monotonic() + deadline_s
    last = None
    while True:
        last = fn()
        if done(last):
            return last
        if time.monotonic() > end:
            raise CheckFailed("%s: not reached within %.0f s; last: %s" % (what, deadline_s, _short(last)))
        time.sleep(POLL_INTERVAL_S)


# ---------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True, help="HOST:PORT of the sandbox")
    ap.add_argument("--region", default="ap-guangzhou")
    ap.add_argument("--secret-id", default="AKIDsandbox")
    ap.add_argument("--secret-key", default="sandboxsecret")
    ap.add_argument("--results", help="write the results as JSON here")
    ap.add_argument("--req-timeout", type=int, default=5, help="per HTTP request, seconds")
    ap.add_argument("--budget", type=float, default=75.0, help="seconds; later checks fail unrun")
    args = ap.parse_args()

    sdk_log = logging.getLogger("tencentcloud_sdk_common")
    sdk_log.setLevel(logging.DEBUG)
    sdk_log.addHandler(WIRE)

    def profile(keep_alive=False, language="zh-CN"):
        hp = HttpProfile(endpoint=args.endpoint, reqMethod="POST", reqTimeout=args.req_timeout,
                         keepAlive=keep_alive)
        hp.scheme = "http"
        return ClientProfile(httpProfile=hp, language=language)

    cred = credential.Credential(args.secret_id, args.secret_key)
    vpc = vpc_client.VpcClient(cred, args.region, profile())
    tag = tag_client.TagClient(cred, args.region, profile())
    common_vpc = CommonClient("vpc", "2017-03-12", cred, args.region, profile())

    r = Runner(args.results, time.monotonic() + args.budget)
    st = {}  # ids created along the way
    suffix = "%x" % (int(time.time() * 1000) & 0xFFFFFF)

    # --- reads ---------------------------------------------------------------------------------------------

    def describe_vpcs():
        resp = vpc.DescribeVpcs(vpc_models.DescribeVpcsRequest())
        expect(resp.RequestId, "no RequestId")
        by_id = {v.VpcId: v for v in (resp.VpcSet or [])}
        expect("vpc-sandbox1" in by_id, "vpc-sandbox1 not in VpcSet: %s" % sorted(by_id))
        expect(by_id["vpc-sandbox1"].CidrBlock == "10.0.0.0/16",
               "vpc-sandbox1 CidrBlock %r" % by_id["vpc-sandbox1"].CidrBlock)
        expect("vpc-sandbox2" not in by_id, "vpc-sandbox2 (ap-shanghai) listed in ap-guangzhou")
        expect(isinstance(resp.TotalCount, int) and resp.TotalCount >= 1, "TotalCount %r" % resp.TotalCount)

    r.check("DescribeVpcs lists vpc-sandbox1 (10.0.0.0/16) in ap-guangzhou", describe_vpcs)

    def describe_vpcs_other_region():
        sh = vpc_client.VpcClient(cred, "ap-shanghai", profile(keep_alive=True, language="en-US"))
        ids = []
        for _ in range(3):  # several calls over one kept-alive connection
            resp = sh.DescribeVpcs(vpc_models.DescribeVpcsRequest())
            ids = sorted(v.VpcId for v in (resp.VpcSet or []))
            expect(ids == ["vpc-sandbox2"], "ap-shanghai VpcSet %r" % ids)

    r.check("DescribeVpcs in ap-shanghai sees only vpc-sandbox2 (keep-alive, en-US profile)",
            describe_vpcs_other_region)

    # --- VPN gateway -----------------------------------------------------------------------------------------

    def create_gateway():
        req = vpc_models.CreateVpnGatewayRequest()
        req.VpcId = "vpc-sandbox1"
        req.VpnGatewayName = "interop-gw-" + suffix
        req.InternetMaxBandwidthOut = 5
        req.InstanceChargeType = "POSTPAID_BY_HOUR"
        resp = vpc.CreateVpnGateway(req)
        gw = resp.VpnGateway
        expect(gw is not None, "no VpnGateway in the response")
        expect(re.fullmatch(r"vpngw-[a-z0-9]{8}", gw.VpnGatewayId or ""), "id %r" % gw.VpnGatewayId)
        expect(gw.VpcId == "vpc-sandbox1", "VpcId %r" % gw.VpcId)
        st["gw"] = gw.VpnGatewayId

    r.check("CreateVpnGateway returns a vpngw- id", create_gateway)

    def describe_gateway(gw_id):
        req = vpc_models.DescribeVpnGatewaysRequest()
        req.VpnGatewayIds = [gw_id]
        return vpc.DescribeVpnGateways(req)

    def gateway_available():
        gw_id = need(st.get("gw"), "no gateway")
        resp = poll(lambda: describe_gateway(gw_id),
                    lambda x: len(x.VpnGatewaySet or []) == 1 and x.VpnGatewaySet[0].State == "AVAILABLE",
                    "gateway AVAILABLE")
        expect(resp.TotalCount == 1, "TotalCount %r" % resp.TotalCount)
        st["gw_ok"] = True

    r.check("DescribeVpnGateways polls the gateway to AVAILABLE", gateway_available)

    # --- customer gateway -----------------------------------------------------------------------------------

    def create_cgw():
        req = vpc_models.CreateCustomerGatewayRequest()
        req.CustomerGatewayName = "interop-cgw-" + suffix
        req.IpAddress = "203.0.113.%d" % (10 + int(suffix, 16) % 200)
        resp = vpc.CreateCustomerGateway(req)
        cgw = resp.CustomerGateway
        expect(cgw is not None, "no CustomerGateway in the response")
        expect(re.fullmatch(r"cgw-[a-z0-9]{8}", cgw.CustomerGatewayId or ""), "id %r" % cgw.CustomerGatewayId)
        expect(cgw.IpAddress == req.IpAddress, "IpAddress %r" % cgw.IpAddress)
        st["cgw"] = cgw.CustomerGatewayId

    r.check("CreateCustomerGateway returns a cgw- id", create_cgw)

    # --- VPN connection -------------------------------------------------------------------------------------

    def create_conn():
        gw_id = need(st.get("gw_ok") and st.get("gw"), "no available gateway")
        cgw_id = need(st.get("cgw"), "no customer gateway")
        req = vpc_models.CreateVpnConnectionRequest()
        req.VpcId = "vpc-sandbox1"
        req.VpnGatewayId = gw_id
        req.CustomerGatewayId = cgw_id
        req.VpnConnectionName = "interop-conn-" + suffix
        req.PreShareKey = PSK
        spd = vpc_models.SecurityPolicyDatabase()
        spd.LocalCidrBlock = "10.0.1.0/24"
        spd.RemoteCidrBlock = ["192.168.10.0/24", "192.168.11.0/24"]
        req.SecurityPolicyDatabases = [spd]
        ike = vpc_models.IKEOptionsSpecification()
        ike.PropoEncryAlgorithm = "AES-CBC-256"
        ike.PropoAuthenAlgorithm = "SHA-256"
        ike.ExchangeMode = "MAIN"
        ike.LocalIdentity = "ADDRESS"
        ike.RemoteIdentity = "ADDRESS"
        ike.DhGroupName = "GROUP14"
        ike.IKESaLifetimeSeconds = 28800
        ike.IKEVersion = "IKEV2"
        req.IKEOptionsSpecification = ike
        ipsec = vpc_models.IPSECOptionsSpecification()
        ipsec.EncryptAlgorithm = "AES-CBC-256"
        ipsec.IntegrityAlgorith = "SHA-256"
        ipsec.IPSECSaLifetimeSeconds = 3600
        ipsec.PfsDhGroup = "DH-GROUP14"
        ipsec.IPSECSaLifetimeTraffic = 1843200
        req.IPSECOptionsSpecification = ipsec
        t1 = vpc_models.Tag()
        t1.Key, t1.Value = "env", "interop"
        t2 = vpc_models.Tag()
        t2.Key, t2.Value = "owner", "ci"
        req.Tags = [t1, t2]
        resp = vpc.CreateVpnConnection(req)
        conn = resp.VpnConnection
        expect(conn is not None, "no VpnConnection in the response")
        expect(re.fullmatch(r"vpnx-[a-z0-9]{8}", conn.VpnConnectionId or ""), "id %r" % conn.VpnConnectionId)
        expect(resp.RequestId, "no RequestId (the task id)")
        st["conn"] = conn.VpnConnectionId
        st["create_task"] = resp.RequestId

    r.check("CreateVpnConnection with SPD, IKE, IPsec and tags returns a vpnx- id", create_conn)

    def task_result(task_id):
        req = vpc_models.DescribeVpcTaskResultRequest()
        req.TaskId = task_id
        return vpc.DescribeVpcTaskResult(req)

    def wait_task(task_id):
        seen = set()

        def once():
            resp = task_result(task_id)
            seen.add(resp.Status)
            expect(resp.Status in ("RUNNING", "SUCCESS", "FAILED"), "unknown Status %r" % resp.Status)
            return resp

        resp = poll(once, lambda x: x.Status in ("SUCCESS", "FAILED"), "task %s done" % task_id)
        expect(resp.Status == "SUCCESS", "task ended %r, Output %r" % (resp.Status, resp.Output))
        return seen

    def create_task():
        task = need(st.get("create_task"), "no create task")
        wait_task(task)
        st["conn_ok"] = True

    r.check("DescribeVpcTaskResult reaches SUCCESS for the create", create_task)

    def check_conn(conn, name, psk):
        expect(conn.VpnConnectionName == name, "VpnConnectionName %r" % conn.VpnConnectionName)
        expect(conn.State == "AVAILABLE", "State %r" % conn.State)
        expect(conn.PreShareKey == psk, "PreShareKey missing or different")
        expect(conn.VpnGatewayId == st["gw"] and conn.CustomerGatewayId == st["cgw"],
               "gateway ids %r/%r" % (conn.VpnGatewayId, conn.CustomerGatewayId))
        expect(conn.VpcId == "vpc-sandbox1", "VpcId %r" % conn.VpcId)
        tags = {t.Key: t.Value for t in (conn.TagSet or [])}
        expect(tags.get("env") == "interop" and tags.get("owner") == "ci", "TagSet %r" % tags)
        spds = conn.SecurityPolicyDatabaseSet or []
        expect(len(spds) == 1 and spds[0].LocalCidrBlock == "10.0.1.0/24"
               and sorted(spds[0].RemoteCidrBlock or []) == ["192.168.10.0/24", "192.168.11.0/24"],
               "SecurityPolicyDatabaseSet %s" % [s.to_json_string() for s in spds])
        ike = conn.IKEOptionsSpecification
        expect(ike is not None and ike.PropoEncryAlgorithm == "AES-CBC-256" and ike.DhGroupName == "GROUP14"
               and ike.IKESaLifetimeSeconds == 28800 and ike.IKEVersion == "IKEV2",
               "IKEOptionsSpecification %s" % (ike and ike.to_json_string()))
        ipsec = conn.IPSECOptionsSpecification
        expect(ipsec is not None and ipsec.EncryptAlgorithm == "AES-CBC-256"
               and ipsec.IPSECSaLifetimeSeconds == 3600 and ipsec.PfsDhGroup == "DH-GROUP14"
               and ipsec.IPSECSaLifetimeTraffic == 1843200,
               "IPSECOptionsSpecification %s" % (ipsec and ipsec.to_json_string()))

    def describe_conn_by_id():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        req = vpc_models.DescribeVpnConnectionsRequest()
        req.VpnConnectionIds = [conn_id]
        resp = vpc.DescribeVpnConnections(req)
        expect(resp.TotalCount == 1 and len(resp.VpnConnectionSet or []) == 1,
               "TotalCount %r, %d items" % (resp.TotalCount, len(resp.VpnConnectionSet or [])))
        check_conn(resp.VpnConnectionSet[0], "interop-conn-" + suffix, PSK)

    r.check("DescribeVpnConnections by id returns it with PreShareKey, TagSet, SPD, IKE, IPsec",
            describe_conn_by_id)

    def describe_conn_by_filter():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        req = vpc_models.DescribeVpnConnectionsRequest()
        f1 = vpc_models.Filter()
        f1.Name, f1.Values = "vpn-gateway-id", [st["gw"]]
        f2 = vpc_models.Filter()
        f2.Name, f2.Values = "vpn-connection-name", ["interop-conn-" + suffix]
        req.Filters = [f1, f2]
        req.Offset, req.Limit = 0, 100
        resp = vpc.DescribeVpnConnections(req)
        ids = [c.VpnConnectionId for c in (resp.VpnConnectionSet or [])]
        expect(ids == [conn_id], "filter returned %r (TotalCount %r)" % (ids, resp.TotalCount))
        expect(resp.TotalCount == 1, "TotalCount %r" % resp.TotalCount)
        check_conn(resp.VpnConnectionSet[0], "interop-conn-" + suffix, PSK)

    r.check("DescribeVpnConnections by filters (vpn-gateway-id, vpn-connection-name) finds it",
            describe_conn_by_filter)

    def describe_conn(conn_id):
        req = vpc_models.DescribeVpnConnectionsRequest()
        req.VpnConnectionIds = [conn_id]
        return vpc.DescribeVpnConnections(req)

    def modify_conn():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        req = vpc_models.ModifyVpnConnectionAttributeRequest()
        req.VpnConnectionId = conn_id
        req.VpnConnectionName = "interop-conn2-" + suffix
        req.PreShareKey = PSK2
        resp = vpc.ModifyVpnConnectionAttribute(req)
        expect(resp.RequestId, "no RequestId")
        # The modify may be synchronous or leave the connection briefly non-AVAILABLE; wait for it to settle.
        got = poll(lambda: describe_conn(conn_id),
                   lambda x: len(x.VpnConnectionSet or []) == 1 and x.VpnConnectionSet[0].State == "AVAILABLE",
                   "connection AVAILABLE after modify")
        c = got.VpnConnectionSet[0]
        expect(c.VpnConnectionName == "interop-conn2-" + suffix, "name after modify %r" % c.VpnConnectionName)
        expect(c.PreShareKey == PSK2, "PreShareKey not changed by ModifyVpnConnectionAttribute")

    r.check("ModifyVpnConnectionAttribute changes name and PreShareKey", modify_conn)

    def modify_gw():
        gw_id = need(st.get("gw_ok") and st.get("gw"), "no available gateway")
        req = vpc_models.ModifyVpnGatewayAttributeRequest()
        req.VpnGatewayId = gw_id
        req.VpnGatewayName = "interop-gw2-" + suffix
        resp = vpc.ModifyVpnGatewayAttribute(req)
        expect(resp.RequestId, "no RequestId")
        got = describe_gateway(gw_id).VpnGatewaySet or []
        expect(len(got) == 1 and got[0].VpnGatewayName == "interop-gw2-" + suffix,
               "name after modify %r" % [g.VpnGatewayName for g in got])

    r.check("ModifyVpnGatewayAttribute renames the gateway", modify_gw)

    def modify_cgw():
        cgw_id = need(st.get("cgw"), "no customer gateway")
        req = vpc_models.ModifyCustomerGatewayAttributeRequest()
        req.CustomerGatewayId = cgw_id
        req.CustomerGatewayName = CGW_NAME2 + suffix
        resp = vpc.ModifyCustomerGatewayAttribute(req)
        expect(resp.RequestId, "no RequestId")
        d = vpc_models.DescribeCustomerGatewaysRequest()
        d.CustomerGatewayIds = [cgw_id]
        got = vpc.DescribeCustomerGateways(d).CustomerGatewaySet or []
        expect(len(got) == 1 and got[0].CustomerGatewayName == CGW_NAME2 + suffix,
               "name after modify %r" % [g.CustomerGatewayName for g in got])

    r.check("ModifyCustomerGatewayAttribute renames the customer gateway (non-ASCII name)", modify_cgw)

    # --- routes ---------------------------------------------------------------------------------------------

    def default_route_table():
        req = vpc_models.DescribeRouteTablesRequest()
        f1 = vpc_models.Filter()
        f1.Name, f1.Values = "vpc-id", ["vpc-sandbox1"]
        f2 = vpc_models.Filter()
        f2.Name, f2.Values = "association.main", ["true"]
        req.Filters = [f1, f2]
        req.Offset, req.Limit = "0", "100"
        resp = vpc.DescribeRouteTables(req)
        tables = resp.RouteTableSet or []
        expect(resp.TotalCount == 1 and len(tables) == 1 and tables[0].Main,
               "default route table of vpc-sandbox1: %s" % [t.to_json_string() for t in tables])
        st["rtb"] = tables[0].RouteTableId

    r.check("DescribeRouteTables (string Offset/Limit) finds the VPC's default route table",
            default_route_table)

    def create_routes():
        rtb = need(st.get("rtb"), "no route table")
        gw_id = need(st.get("gw_ok") and st.get("gw"), "no available gateway")
        req = vpc_models.CreateRoutesRequest()
        req.RouteTableId = rtb
        routes = []
        for dest in ("192.168.10.0/24", "192.168.11.0/24"):
            rt = vpc_models.Route()
            rt.DestinationCidrBlock, rt.GatewayType, rt.GatewayId = dest, "VPN", gw_id
            rt.RouteDescription = "interop"
            routes.append(rt)
        req.Routes = routes
        resp = vpc.CreateRoutes(req)
        expect(resp.TotalCount == 2, "TotalCount %r" % resp.TotalCount)
        got = [x for t in (resp.RouteTableSet or []) for x in (t.RouteSet or [])]
        expect(len(got) == 2 and all(x.RouteId and x.RouteItemId for x in got),
               "RouteSet %s" % [x.to_json_string() for x in got])
        st["route_ids"] = [x.RouteId for x in got]

    r.check("CreateRoutes adds two VPN routes in one call (RouteId, RouteItemId)", create_routes)

    def delete_routes():
        rtb = need(st.get("rtb"), "no route table")
        ids = need(st.get("route_ids"), "no routes")
        req = vpc_models.DeleteRoutesRequest()
        req.RouteTableId = rtb
        routes = []
        for i in ids:
            rt = vpc_models.Route()
            rt.RouteId = i
            routes.append(rt)
        req.Routes = routes
        resp = vpc.DeleteRoutes(req)
        expect(len(resp.RouteSet or []) == 2, "RouteSet %r" % resp.RouteSet)

    r.check("DeleteRoutes by RouteId alone", delete_routes)

    def vendors_and_configuration():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        vendors = vpc.DescribeCustomerGatewayVendors(
            vpc_models.DescribeCustomerGatewayVendorsRequest()).CustomerGatewayVendorSet or []
        expect(vendors, "no vendors")
        req = vpc_models.DownloadCustomerGatewayConfigurationRequest()
        req.VpnGatewayId, req.VpnConnectionId = st["gw"], conn_id
        req.CustomerGatewayVendor = vendors[0]
        req.InterfaceName = "eth0"
        text = vpc.DownloadCustomerGatewayConfiguration(req).CustomerGatewayConfiguration or ""
        expect(conn_id in text, "configuration does not name the tunnel: %r" % text[:200])

    r.check("DescribeCustomerGatewayVendors and DownloadCustomerGatewayConfiguration", vendors_and_configuration)

    def reset_conn():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        req = vpc_models.ResetVpnConnectionRequest()
        req.VpnGatewayId, req.VpnConnectionId = st["gw"], conn_id
        resp = vpc.ResetVpnConnection(req)
        expect(resp.RequestId, "no RequestId")
        poll(lambda: describe_conn(conn_id),
             lambda x: len(x.VpnConnectionSet or []) == 1 and x.VpnConnectionSet[0].NetStatus == "AVAILABLE",
             "tunnel NetStatus AVAILABLE again after the reset")
        missing = vpc_models.ResetVpnConnectionRequest()
        missing.VpnGatewayId, missing.VpnConnectionId = st["gw"], "vpnx-0000zz00"
        expect_sdk_error(lambda: vpc.ResetVpnConnection(missing), lambda c: c == "ResourceNotFound",
                         "ResetVpnConnection of a non-existent tunnel")

    r.check("ResetVpnConnection: the tunnel comes back AVAILABLE; unknown tunnel -> ResourceNotFound", reset_conn)

    # --- tag service ----------------------------------------------------------------------------------------

    def six_segment():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        return "qcs::vpc:%s:uin/%s:vpnx/%s" % (args.region, UIN, conn_id)

    def tag_resources():
        name = six_segment()
        req = tag_models.TagResourcesRequest()
        req.ResourceList = [name]
        t = tag_models.Tag()
        t.TagKey, t.TagValue = "team", "net-" + suffix
        req.Tags = [t]
        resp = tag.TagResources(req)
        expect(resp.RequestId, "no RequestId")
        expect(not resp.FailedResources, "FailedResources %s" % [f.to_json_string() for f in resp.FailedResources])
        c = describe_conn(name.rsplit("/", 1)[1]).VpnConnectionSet[0]
        tags = {x.Key: x.Value for x in (c.TagSet or [])}
        expect(tags.get("team") == "net-" + suffix and tags.get("env") == "interop",
               "TagSet seen by DescribeVpnConnections after TagResources: %r" % tags)
        st["tagged"] = True

    r.check("tag TagResources on the tunnel's six-segment name (seen in TagSet)", tag_resources)

    def get_resources():
        need(st.get("tagged"), "TagResources failed")
        name = six_segment()
        req = tag_models.GetResourcesRequest()
        f = tag_models.TagFilter()
        f.TagKey, f.TagValue = "team", ["net-" + suffix]
        req.TagFilters = [f]
        req.MaxResults = 50
        resp = tag.GetResources(req)
        found = {m.Resource: {t.TagKey: t.TagValue for t in (m.Tags or [])}
                 for m in (resp.ResourceTagMappingList or [])}
        expect(list(found) == [name], "GetResources by tag filter returned %r" % sorted(found))
        expect(found[name].get("team") == "net-" + suffix and found[name].get("owner") == "ci",
               "tags of %s: %r" % (name, found[name]))

    r.check("tag GetResources by TagFilters finds the tunnel with its tags", get_resources)

    def untag_resources():
        need(st.get("tagged"), "TagResources failed")
        name = six_segment()
        req = tag_models.UnTagResourcesRequest()
        req.ResourceList = [name]
        req.TagKeys = ["team"]
        resp = tag.UnTagResources(req)
        expect(resp.RequestId, "no RequestId")
        expect(not resp.FailedResources, "FailedResources %s" % [f.to_json_string() for f in resp.FailedResources])
        g = tag_models.GetResourcesRequest()
        g.ResourceList = [name]
        got = tag.GetResources(g).ResourceTagMappingList or []
        keys = sorted(t.TagKey for m in got for t in (m.Tags or []))
        expect(len(got) == 1 and "team" not in keys and "env" in keys,
               "GetResources by name after UnTagResources: %s" % [m.to_json_string() for m in got])

    r.check("tag UnTagResources removes the key (GetResources by ResourceList)", untag_resources)

    # --- error paths ----------------------------------------------------------------------------------------

    def wrong_key():
        bad = vpc_client.VpcClient(credential.Credential(args.secret_id, args.secret_key + "x"), args.region,
                                   profile())
        expect_sdk_error(lambda: bad.DescribeVpcs(vpc_models.DescribeVpcsRequest()),
                         lambda c: c == "AuthFailure.SignatureFailure", "wrong secret key")

    r.check("wrong secret key -> AuthFailure.SignatureFailure", wrong_key)

    def unknown_id():
        bad = vpc_client.VpcClient(credential.Credential("AKIDnobodyhere0000", args.secret_key), args.region,
                                   profile())
        expect_sdk_error(lambda: bad.DescribeVpcs(vpc_models.DescribeVpcsRequest()),
                         lambda c: c == "AuthFailure.SecretIdNotFound", "unknown secret id")

    r.check("unknown secret id -> AuthFailure.SecretIdNotFound", unknown_id)

    def unknown_param():
        expect_sdk_error(lambda: common_vpc.call_json("DescribeVpcs", {"VpcIds": ["vpc-sandbox1"],
                                                                        "NoSuchParameter": 1}),
                         lambda c: c == "UnknownParameter", "unknown parameter")

    r.check("unknown parameter (CommonClient.call_json) -> UnknownParameter", unknown_param)

    def common_ok():
        got = common_vpc.call_json("DescribeVpcs", {"VpcIds": ["vpc-sandbox1"]})
        resp = got.get("Response", {})
        expect([v.get("VpcId") for v in resp.get("VpcSet", [])] == ["vpc-sandbox1"],
               "CommonClient DescribeVpcs: %s" % json.dumps(got)[:500])
        expect(resp.get("RequestId"), "no RequestId")

    r.check("CommonClient.call_json DescribeVpcs by id works", common_ok)

    def missing_param():
        req = vpc_models.CreateCustomerGatewayRequest()
        req.CustomerGatewayName = "interop-missing-" + suffix  # IpAddress (required) left out
        expect_sdk_error(lambda: vpc.CreateCustomerGateway(req), lambda c: c == "MissingParameter",
                         "missing IpAddress")

    r.check("missing required parameter -> MissingParameter", missing_param)

    def expired_timestamp():
        import tencentcloud.common.abstract_client as sdk_client

        class TenMinutesAgo:
            @staticmethod
            def time():
                return time.time() - 600

        real = sdk_client.time
        sdk_client.time = TenMinutesAgo  # the SDK stamps X-TC-Timestamp with abstract_client.time.time()
        try:
            expect_sdk_error(lambda: vpc.DescribeVpcs(vpc_models.DescribeVpcsRequest()),
                             lambda c: c == "AuthFailure.SignatureExpire", "X-TC-Timestamp 10 minutes old")
        finally:
            sdk_client.time = real

    r.check("timestamp 10 minutes old -> AuthFailure.SignatureExpire", expired_timestamp)

    def unknown_action():
        expect_sdk_error(lambda: common_vpc.call_json("DescribeNoSuchThing", {}),
                         lambda c: c == "InvalidAction", "unknown action")

    r.check("unknown action (CommonClient.call_json) -> InvalidAction", unknown_action)

    def ids_and_filters():
        req = vpc_models.DescribeVpnConnectionsRequest()
        req.VpnConnectionIds = ["vpnx-0000zz00"]
        f = vpc_models.Filter()
        f.Name, f.Values = "vpc-id", ["vpc-sandbox1"]
        req.Filters = [f]
        expect_sdk_error(lambda: vpc.DescribeVpnConnections(req), lambda c: c == "InvalidParameter.Coexist",
                         "VpnConnectionIds together with Filters")

    r.check("DescribeVpnConnections with ids and filters -> InvalidParameter.Coexist", ids_and_filters)

    def delete_missing_conn():
        gw_id = need(st.get("gw_ok") and st.get("gw"), "no available gateway")
        req = vpc_models.DeleteVpnConnectionRequest()
        req.VpnGatewayId = gw_id
        req.VpnConnectionId = "vpnx-0000zz00"
        expect_sdk_error(lambda: vpc.DeleteVpnConnection(req), lambda c: c.startswith("ResourceNotFound"),
                         "DeleteVpnConnection of a non-existent id")

    r.check("DeleteVpnConnection of a non-existent id -> ResourceNotFound*", delete_missing_conn)

    # --- teardown -------------------------------------------------------------------------------------------

    def delete_conn():
        conn_id = need(st.get("conn_ok") and st.get("conn"), "no available connection")
        req = vpc_models.DeleteVpnConnectionRequest()
        req.VpnGatewayId = st["gw"]
        req.VpnConnectionId = conn_id
        resp = vpc.DeleteVpnConnection(req)
        expect(resp.RequestId, "no RequestId (the task id)")
        wait_task(resp.RequestId)
        after = None
        try:
            after = describe_conn(conn_id)
        except TencentCloudSDKException as e:
            expect(e.code.startswith("ResourceNotFound") or e.code.startswith("InvalidParameterValue"),
                   "describe after delete: %s %s" % (e.code, e.message))
        if after is not None:
            expect(not after.VpnConnectionSet, "still listed after the delete task: %s"
                   % [c.State for c in after.VpnConnectionSet])
        st["conn_deleted"] = True

    r.check("DeleteVpnConnection + DescribeVpcTaskResult SUCCESS, then gone", delete_conn)

    def delete_cgw():
        cgw_id = need(st.get("cgw"), "no customer gateway")
        if st.get("conn") and not st.get("conn_deleted"):
            raise Prereq("its connection was not deleted")
        req = vpc_models.DeleteCustomerGatewayRequest()
        req.CustomerGatewayId = cgw_id
        expect(vpc.DeleteCustomerGateway(req).RequestId, "no RequestId")
        d = vpc_models.DescribeCustomerGatewaysRequest()
        f = vpc_models.Filter()
        f.Name, f.Values = "customer-gateway-id", [cgw_id]
        d.Filters = [f]
        left = vpc.DescribeCustomerGateways(d).CustomerGatewaySet or []
        expect(not left, "still listed after delete: %r" % [g.CustomerGatewayId for g in left])

    r.check("DeleteCustomerGateway", delete_cgw)

    def delete_gw():
        gw_id = need(st.get("gw"), "no gateway")
        if st.get("conn") and not st.get("conn_deleted"):
            raise Prereq("its connection was not deleted")
        req = vpc_models.DeleteVpnGatewayRequest()
        req.VpnGatewayId = gw_id
        expect(vpc.DeleteVpnGateway(req).RequestId, "no RequestId")
        poll(lambda: describe_gateway(gw_id),
             lambda x: not x.VpnGatewaySet or x.VpnGatewaySet[0].State in ("DELETING", "DELETED"),
             "gateway gone or DELETING/DELETED")

    r.check("DeleteVpnGateway", delete_gw)

    passed = sum(1 for x in r.results if x["ok"])
    failed = len(r.results) - passed
    print("sdk_interop: %d checks, %d ok, %d failing" % (len(r.results), passed, failed), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
