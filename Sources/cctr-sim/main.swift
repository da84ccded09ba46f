print("cctr-sim: under construction")
