print("cctr-bridge: under construction")
