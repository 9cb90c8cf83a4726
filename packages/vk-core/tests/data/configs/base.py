item1 = "a"
item2 = dict(item3="b")
