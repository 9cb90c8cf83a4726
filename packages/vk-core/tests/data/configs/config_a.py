a = 1
b = dict(b1=[0, 1, 2], b2=None)
