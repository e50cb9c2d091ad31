"""Domain services stage: appointments at the windows (预约、延时服务), and home visits next."""
