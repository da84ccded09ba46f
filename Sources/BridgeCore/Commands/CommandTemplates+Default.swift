/// The built-in command templates, identical to `deploy/commands.default.yaml` (a test
/// checks it), so the binary needs no file and operators have a copy to start from.
extension CommandTemplates {
    public static let defaultYAML: String = #"""
# cctr-bridge command templates: the built-in defaults (`--commands FILE` replaces them).
# Schema: schemas/commands.schema.json. JSON with the same structure works too.
#
# No GPRS downlink command format of Carscop trackers is publicly documented. What is
# known: the SMS command dialect of these devices (COMMAND*password*args, default password
# 123456), and the server words of their TK103 ancestor (AP00, AR00, AV01...). Neither is
# confirmed over a TCP/UDP connection, so every template below except `custom` is
# DISABLED: enable at most one variant per type after trying it on your devices.
#
# Each command type lists variants:
#   name           a label for logs and errors
#   enabled        true to use this variant (default false)
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
#   reply          optional: the device frame that acknowledges the command (status
#                  acked). All conditions given must hold: word (the frame's 4-character
#                  command word), body_prefix, body_contains (plain text; placeholders
#                  allowed). Without reply the command is final once written (sent).
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
  engineStop:
    - name: tk103
      enabled: false
      template: "AV01"
      framing: carscop
  engineResume:
    - name: tk103
      enabled: false
      template: "AV00"
      framing: carscop
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
