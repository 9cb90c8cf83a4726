_base_ = ["./config_a.py", "./config_e.py"]
