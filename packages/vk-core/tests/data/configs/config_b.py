_base_ = "./config_a.py"
c = (1, 2)
d = "string"
