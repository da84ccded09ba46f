/// The built-in command templates, identical to `deploy/commands.default.yaml` (a test
/// checks it), so the binary needs no file and operators have a copy to start from.
extension CommandTemplates {
    public static let defaultYAML: String = #"""
# cctr-bridge command templates: the built-in defaults (`--commands FILE` replaces them).
# Schema: schemas/commands.schema.json. JSON with the same structure works too.
#
# Carscop (CCTR-801): no GPRS downlink command format is publicly documented. What is
# known: the SMS command dialect of these devices (COMMAND*password*args, default password
# 123456), and the server words of their TK103 ancestor (AP00, AR00, AV01...). Neither is
# confirmed over a TCP/UDP connection, so every carscop template below except `custom` is
# DISABLED: enable at most one variant per type after trying it on your devices.
#
# H02 (other CCTR models, Sinotrack, Coban...): the downlink format is public and the
# templates marked `protocol: h02` are ENABLED. A command goes out in the protocol of the
# device's current session, using that protocol's enabled variant.
#
# Each command type lists variants:
#   name           a label for logs and errors
#   protocol       the devices it is for: carscop (default) or h02
#   enabled        true to use this variant (default false); at most one per protocol
#   template       the text written to the tracker. Placeholders:
#                    {password}      device password (the command's device_password,
#                                    else devices.<id>.password, else --device-password)
#                    {device_id}     the tracker's terminal id
#                    {header}        yymmddhhmmss, the write time in the device's time zone
#                    {data}          custom
#                    {interval_s}    positionPeriodic, decimal seconds
#                    {interval_hex}  positionPeriodic, 4 upper-case hex digits (max 65535)
#                    {offset}        setTimezone, as given (+08:00)
#                    {index} {phone} sosNumber
#                    {apn} {user} {apn_password}   setApn (apn_password = params.password)
#                    {host} {port}   setServer
#                  {#user}...{/user} (or {#apn_password}...{/apn_password}) is written only
#                  when the command has that optional parameter. {{ and }} are literal braces.
#   framing        raw (default): the text exactly as is.
#                  carscop: "*" + {header} + text + "^", like the tracker's own frames.
#                  h02: "*HQ," + {device_id} + "," + the text's first field + "," + the
#                  send time (HHMMSS, UTC) + the rest of the text + "#":
#                  "S20,1,1" becomes *HQ,4105131188,S20,101300,1,1#.
#   reply          optional: the device frame that acknowledges the command (status
#                  acked). All conditions given must hold: word (the frame's message type:
#                  carscop's 4-character command word, H02's type such as V4), body_prefix,
#                  body_contains (plain text; placeholders allowed). failure_contains: a
#                  matching reply whose body contains it fails the command (status failed,
#                  with device_reply). Without reply the command is final once written (sent).
#   max_in_flight  commands that may await their reply at once with this one (default 1)
#
# acks: frames written back when the tracker logs in (UB05), sends a heartbeat (UB00) or
# an alarm (UA01). Whether trackers need them is unknown; all are off. Placeholders:
# {header}, {device_id}.
version: 1
commands:
  custom:
    - name: raw
      enabled: true
      template: "{data}"
      framing: raw
    - name: h02-raw
      protocol: h02
      enabled: true
      template: "{data}"
      framing: raw
  positionSingle:
    - name: tk103
      enabled: false
      template: "AP00"
      framing: carscop
      reply: {word: UB04}
  positionPeriodic:
    - name: tk103
      enabled: false
      template: "AR00{interval_hex}0000"
      framing: carscop
      reply: {word: BS08, body_prefix: "{interval_hex}"}
    - name: h02
      protocol: h02
      enabled: true
      template: "S71,22,{interval_s}"
      framing: h02
      reply: {word: V4, body_prefix: "S71,", failure_contains: "ERROR"}
  engineStop:
    - name: tk103
      enabled: false
      template: "AV01"
      framing: carscop
    - name: h02
      protocol: h02
      enabled: true
      template: "S20,1,1"
      framing: h02
      reply: {word: V4, body_prefix: "S20,", failure_contains: "ERROR"}
  engineResume:
    - name: tk103
      enabled: false
      template: "AV00"
      framing: carscop
    - name: h02
      protocol: h02
      enabled: true
      template: "S20,1,0"
      framing: h02
      reply: {word: V4, body_prefix: "S20,", failure_contains: "ERROR"}
  alarmArm:
    - name: h02
      protocol: h02
      enabled: true
      template: "SCF,0,0"
      framing: h02
      reply: {word: V4, body_prefix: "SCF,", failure_contains: "ERROR"}
  alarmDisarm:
    - name: h02
      protocol: h02
      enabled: true
      template: "SCF,1,1"
      framing: h02
      reply: {word: V4, body_prefix: "SCF,", failure_contains: "ERROR"}
  rebootDevice:
    - name: sms
      enabled: false
      template: "RESET*{password}"
      framing: raw
    - name: tk103
      enabled: false
      template: "AT00"
      framing: carscop
  setTimezone:
    - name: sms
      enabled: false
      template: "TIMEZONE*{password}*{offset}"
      framing: raw
  setApn:
    - name: sms
      enabled: false
      # USERNAME goes as a second line, only when the command gives user (and password).
      template: "APN*{password}*{apn}{#user}\nUSERNAME*{password}*{user}*{apn_password}{/user}"
      framing: raw
  setServer:
    - name: sms
      enabled: false
      template: "IP*{password}*{host},{port}"
      framing: raw
  sosNumber:
    - name: sms
      enabled: false
      # The SMS manual writes the slot as a letter (ADDPHONE*123456*A*number); check yours.
      template: "ADDPHONE*{password}*{index}*{phone}"
      framing: raw
acks:
  login:
    enabled: false
    template: "AP05"
    framing: carscop
  heartbeat:
    enabled: false
    template: "AP01HSO"
    framing: carscop
  alarm:
    enabled: false
    template: "AS01"
    framing: carscop

"""#
}
