_base_ = "./config_a.py"
b = dict(b2=1)
c = (1, 2)
