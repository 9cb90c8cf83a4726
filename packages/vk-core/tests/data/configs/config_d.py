_base_ = "./config_a.py"
b = dict(_delete_=True, b2=None, b3=0.1)
c = (1, 2)
