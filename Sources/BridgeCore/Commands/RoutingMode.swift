/// How commands reach the bridge instances (`docs/scaling.md`, "Routing commands").
public enum RoutingMode: String, Sendable, Equatable {
    /// `$share/<group>/<base>/+/cmd`: the broker hands each command to one instance, which
    /// forwards it to the device's owner when that is another instance.
    case shared
    /// `<base>/+/cmd`: every instance gets every command and acts only on those of devices it
    /// holds or keeps; needs nothing but MQTT 3.1.1 publish/subscribe across a cluster.
    case broadcast
}
