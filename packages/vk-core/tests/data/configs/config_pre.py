a = 1
b = "./work_dir/{{ fileBasenameNoExtension }}"
c = "{{ fileExtname }}"
d = "{{fileBasename}}"
e = "{{ fileDirname }}"
