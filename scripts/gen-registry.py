#!/usr/bin/env python3
"""Generate flowwire-record's information-element tables from the IANA registry XML.

Usage: scripts/gen-registry.py [SHARED_IANA_DIR]

Reads ipfix.xml (the IANA "IPFIX Entities" registry) and vmware-enterprise-6876.xml
(VMware's enterprise elements) from SHARED_IANA_DIR (default ../shared/iana) and writes
flow-record/src/registry/generated.rs. The XML is not copied into the project; the output
names the registry's update date so a diff shows which registry revision it came from.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.iana.org/assignments}"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DATA_TYPES = {
    "octetArray": "OctetArray", "unsigned8": "Unsigned8", "unsigned16": "Unsigned16",
    "unsigned32": "Unsigned32", "unsigned64": "Unsigned64", "unsigned256": "Unsigned256",
    "signed8": "Signed8", "signed16": "Signed16", "signed32": "Signed32", "signed64": "Signed64",
    "float32": "Float32", "float64": "Float64", "boolean": "Boolean", "macAddress": "MacAddress",
    "string": "String", "dateTimeSeconds": "DateTimeSeconds",
    "dateTimeMilliseconds": "DateTimeMilliseconds", "dateTimeMicroseconds": "DateTimeMicroseconds",
    "dateTimeNanoseconds": "DateTimeNanoseconds", "ipv4Address": "Ipv4Address",
    "ipv6Address": "Ipv6Address", "basicList": "BasicList", "subTemplateList": "SubTemplateList",
    "subTemplateMultiList": "SubTemplateMultiList",
}
SEMANTICS = {
    "default": "Default", "quantity": "Quantity", "totalCounter": "TotalCounter",
    "deltaCounter": "DeltaCounter", "identifier": "Identifier", "flags": "Flags", "list": "List",
    "snmpCounter": "SnmpCounter", "snmpGauge": "SnmpGauge",
}
UNITS = {
    "octets": "Octets", "packets": "Packets", "messages": "Messages", "seconds": "Seconds",
    "milliseconds": "Milliseconds", "microseconds": "Microseconds", "nanoseconds": "Nanoseconds",
    "4-octet words": "FourOctetWords", "entries": "Entries", "inferred": "Inferred",
    "flows": "Flows", "hops": "Hops", "bits": "Bits", "frames": "Frames", "ports": "Ports",
}
STATUS = {"current": "Current", "deprecated": "Deprecated", None: "Current"}

# Open vSwitch's tunnel elements (ofproto/ipfix-enterprise-entities.def in openvswitch/ovs) are
# not in VMware's published XML; their types follow the sizes OVS declares.
OVS_TUNNEL = [
    (891, "tunnelType", "unsigned8", "identifier", None),
    (892, "tunnelKey", "octetArray", "identifier", None),
    (893, "tunnelSourceIPv4Address", "ipv4Address", "default", None),
    (894, "tunnelDestinationIPv4Address", "ipv4Address", "default", None),
    (895, "tunnelProtocolIdentifier", "unsigned8", "identifier", None),
    (896, "tunnelSourceTransportPort", "unsigned16", "identifier", None),
    (897, "tunnelDestinationTransportPort", "unsigned16", "identifier", None),
]


def records(path):
    root = ET.parse(path).getroot()
    update = root.findtext(NS + "updated")
    for reg in root.iter(NS + "registry"):
        if reg.get("id") == "ipfix-information-elements":
            break
    else:
        sys.exit(f"{path}: no ipfix-information-elements registry")
    out = []
    for rec in reg.findall(NS + "record"):
        get = lambda k: rec.findtext(NS + k)
        data_type = get("dataType")
        element_id = get("elementId")
        if not data_type or not element_id or not element_id.isdigit():
            continue  # reserved and unassigned ranges
        units = (get("units") or "").strip() or None
        out.append((int(element_id), get("name").strip(), data_type, get("dataTypeSemantics"),
                    units, get("status")))
    return update, out


def rust_entry(pen, eid, name, dt, sem, units, status):
    sem_s = f"Some(Semantics::{SEMANTICS[sem]})" if sem else "None"
    units_s = f"Some(Units::{UNITS[units]})" if units else "None"
    return (f"    InformationElement {{ pen: {pen}, id: {eid}, name: {name!r}, "
            f"data_type: DataType::{DATA_TYPES[dt]}, semantics: {sem_s}, units: {units_s}, "
            f"status: Status::{STATUS[status]} }},").replace("'", '"')


def const_name(name):
    """camelCase registry name -> SCREAMING_SNAKE constant (sourceIPv4Address -> SOURCE_IPV4_ADDRESS)."""
    n = name.replace("IPv4", "Ipv4").replace("IPv6", "Ipv6")
    n = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", n)
    n = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", n)
    n = re.sub(r"[^A-Za-z0-9_]", "_", n).upper()
    return n if not n[0].isdigit() else "E_" + n


def const_lines(table, doc_prefix):
    seen = set()
    out = []
    for (eid, name, dt, _sem, _units, status) in table:
        c = const_name(name)
        if c in seen:
            c = f"{c}_{eid}"
        seen.add(c)
        dep = ", deprecated" if status == "deprecated" else ""
        out.append(f"    /// `{name}` ({doc_prefix}{eid}): {dt}{dep}.")
        out.append(f"    pub const {c}: u16 = {eid};")
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "iana")
    iana_updated, iana = records(os.path.join(src, "ipfix.xml"))
    _, vmware = records(os.path.join(src, "vmware-enterprise-6876.xml"))
    known = {e[0] for e in vmware}
    vmware += [(eid, n, dt, sem, u, "current") for (eid, n, dt, sem, u) in OVS_TUNNEL if eid not in known]
    iana.sort()
    vmware.sort()
    lines = [
        "// @generated by scripts/gen-registry.py from the IANA IPFIX registry",
        f"// (ipfix.xml, updated {iana_updated}) and VMware's enterprise elements (PEN 6876).",
        "// Do not edit: change the generator and run it again.",
        "",
        "use crate::data_type::{DataType, Semantics, Status, Units};",
        "use crate::registry::InformationElement;",
        "",
        f"/// The date of the IANA registry revision this table was generated from.",
        f"pub const IANA_REGISTRY_UPDATED: &str = {iana_updated!r};".replace("'", '"'),
        "",
        f"/// Every IANA-assigned information element with a data type, sorted by id.",
        f"pub(crate) static IANA: [InformationElement; {len(iana)}] = [",
    ]
    lines += [rust_entry(0, *e) for e in iana]
    lines += ["];", "",
              "/// VMware / Open vSwitch enterprise elements (PEN 6876), sorted by id.",
              f"pub(crate) static VMWARE: [InformationElement; {len(vmware)}] = ["]
    lines += [rust_entry(6876, *e) for e in vmware]
    lines += ["];", ""]
    lines += [
        "/// Element ids as named constants, for matching on [`FieldId::id`](crate::registry::FieldId)",
        "/// instead of bare numbers: `ie::OCTET_DELTA_COUNT` is 1. Names are the registry's, in",
        "/// upper snake case.",
        "pub mod ie {",
    ]
    lines += const_lines(iana, "")
    lines += [
        "",
        "    /// VMware / Open vSwitch enterprise elements (PEN 6876).",
        "    pub mod vmware {",
    ]
    lines += ["    " + l for l in const_lines(vmware, "6876:")]
    lines += ["    }", "}", ""]
    out = os.path.join(ROOT, "flow-record", "src", "registry", "generated.rs")
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {out}: {len(iana)} IANA elements, {len(vmware)} VMware elements")


if __name__ == "__main__":
    main()
